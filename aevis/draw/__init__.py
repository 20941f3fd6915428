"""Arrays in, pictures out: colour scales and overlays, charts, sheets, pictures of the network and
animations. Nothing here knows where a picture goes in the site (that is :mod:`aevis.site`).
"""

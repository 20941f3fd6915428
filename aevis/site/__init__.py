"""The static site: page models gathered from a build, where every file lives (``urls``), the
pictures put in place through the cache, the HTML, the data contract and the atomic swap.
"""

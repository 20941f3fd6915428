"""The code space as a whole: neighbours by cosine similarity, the 2-D map, clusters, the
mosaic layout and how far to trust the map.
"""

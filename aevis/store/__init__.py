"""Where a build's numbers come from: the content-addressed cache, and the results that ask it
before computing anything.
"""

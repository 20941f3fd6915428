"""The build's stages past the first look, a module each (loading, gathering, comparing,
explaining); :mod:`aevis.pipeline` runs them in order."""

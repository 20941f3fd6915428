"""Inside the network: feature maps of every convolution, which images make each channel fire,
feature visualization, latent morphs, and what the build gathers about them.
"""

"""The images: the user's folders read and brought to the model's input, the built-in sets, and
the ImageSet every later stage receives.
"""

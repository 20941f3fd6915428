"""The user's autoencoder: loaded in any form, flattened, split at its code, read in its pixel range.

- :mod:`aevis.model.files`: model files, known by content, custom objects, and a sentence for
  files aevis cannot use;
- :mod:`aevis.model.legacy`: files saved by Keras 2, their configs translated for Keras 3;
- :mod:`aevis.model.graph`: Sequential, nested and paired models as one flat graph;
- :mod:`aevis.model.waist`: where the code is;
- :mod:`aevis.model.scale`: which pixel ranges the model was trained on;
- :mod:`aevis.model.autoencoder`: :class:`Autoencoder`, which runs it on [0, 1] images.
"""

from aevis.model.autoencoder import (
    Autoencoder,
    InputSpec,
    choose_scales,
    load_autoencoder,
    wrap_autoencoder,
)
from aevis.model.files import file_sha256
from aevis.model.scale import PixelScales

__all__ = [
    "Autoencoder",
    "InputSpec",
    "PixelScales",
    "choose_scales",
    "file_sha256",
    "load_autoencoder",
    "wrap_autoencoder",
]

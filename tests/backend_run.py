"""Run in a process of its own, on the Keras backend its ``KERAS_BACKEND`` names: the codes,
the five methods' maps, the faithfulness figures and the per-image weight gradients of a saved model on saved images, into an
.npz (``python -m tests.backend_run MODEL IMAGES MASKS OUT``; see tests/test_backends.py)."""

import sys

import numpy as np

import aevis
from aevis import backend
from aevis.faithfulness import faithfulness
from aevis.latent.taught_by import encoder_variables, reconstruction_losses
from aevis.methods import explain
from aevis.methods.registry import TARGET_METHODS


def main(model: str, images: str, masks: str, out: str) -> None:
    ae = aevis.load_autoencoder(model, input_scale="0-1")
    pixels, masks = np.load(images), np.load(masks)
    found = {"codes": ae.encode(pixels, batch_size=4), "rebuilt": ae.reconstruct(pixels, batch_size=4)}
    options = {
        "smoothgrad": {"samples": 4, "seed": 0},
        "integrated_gradients": {"steps": 8},
        "occlusion": {"patch": 4, "stride": 4},
    }
    maps = {method: explain(ae, pixels, method=method, **options.get(method, {})) for method in TARGET_METHODS}
    found.update({f"map {method}": values for method, values in maps.items()})
    figures = faithfulness(ae, pixels, maps, masks, method_options=options, sample=4, batch_size=4)
    found.update(
        {
            f"figure {method} {name}": value
            for method, values in figures.items()
            for name, value in values.items()
            if value is not None
        }
    )
    # Each image's loss gradient by the encoder's weights, as "Taught by" takes it.
    found["item gradients"] = backend.item_gradients(
        reconstruction_losses(ae.model), encoder_variables(ae.model, ae.bottleneck)
    )(pixels)
    np.savez(out, backend=backend.BACKEND, **found)


if __name__ == "__main__":
    main(*sys.argv[1:])

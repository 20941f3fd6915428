"""SmoothGrad: saliency averaged over noisy copies of the image, which removes its speckle."""

from __future__ import annotations

import zlib

import numpy as np

from aevis import backend
from aevis._utils.validation import check_batch_size, check_int
from aevis.methods.batching import compiled_for, item_chunks, sum_by_owner
from aevis.methods.registry import REGISTRY
from aevis.methods.saliency import saliency_function
from aevis.methods.targets import make_target

_OPTIONS = REGISTRY["smoothgrad"]
_DEFAULTS = _OPTIONS.defaults


def smoothgrad(
    ae,
    images: np.ndarray,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    samples: int = _DEFAULTS["samples"],
    noise: float = _DEFAULTS["noise"],
    seed: int = 0,
    batch_size: int = 32,
) -> np.ndarray:
    """Mean saliency over ``samples`` noisy copies of each image (Smilkov et al. 2017).

    map(x) = mean over s of max_c |∂t/∂x (x + ε_s)|, ε_s ~ N(0, noise²) per pixel and channel.
    The images live in [0, 1], so ``noise`` is σ as a fraction of that range; noisy values
    are not clipped (as in the paper). The target itself (ẑ for ``self``) is taken from the
    clean image.

    Args:
        ae: the autoencoder.
        images: float32 (N, H, W, C) in [0, 1].
        target: see :mod:`aevis.methods.targets`; None means ``'self'``.
        reference_codes: (N, D) neighbour codes, for ``target='neighbour'`` only.
        samples: noisy copies per image (default 20).
        noise: σ of the Gaussian noise, as a fraction of the [0, 1] range (default 0.15).
        seed: seeds the noise; an image's noise depends only on ``seed`` and the image, so
            maps are reproducible whatever the batch, the order or the other images.
        batch_size: noisy copies per gradient evaluation (copies of several images share
            a batch).

    Returns:
        float32 (N, H, W), non-negative.
    """
    samples = _OPTIONS.option("samples").check(samples)
    noise = _OPTIONS.option("noise").check(noise)
    seed = check_int("seed", seed, minimum=0)
    batch_size = check_batch_size(batch_size)
    images = np.asarray(images, dtype=np.float32)
    score = make_target(ae, images, target, reference_codes, batch_size=batch_size)
    # ẑ comes from the clean image (score.reference): the noisy copies are not x.
    fn = compiled_for(ae, ("saliency", score.kind, "any image"), lambda: saliency_function(score.traceable()))
    reference = score.reference

    sums = np.zeros(images.shape[:3], dtype=np.float64)
    for owner, sample in item_chunks(len(images), samples, batch_size):
        noisy = images[owner] + _noise_for(images, owner, sample, samples, noise, seed)
        sum_by_owner(sums, owner, backend.to_numpy(fn(noisy, reference[owner])))
    return (sums / samples).astype(np.float32)


def _noise_for(images, owner, sample, samples, noise, seed) -> np.ndarray:
    """The noise of each (image, sample) item, drawn per image from its own generator."""
    out = np.empty((len(owner), *images.shape[1:]), dtype=np.float32)
    for index in np.unique(owner):  # one draw per image touched by this chunk
        rng = np.random.default_rng([seed, zlib.crc32(images[index].tobytes())])
        draws = rng.standard_normal((samples, *images.shape[1:]), dtype=np.float32)
        here = owner == index
        out[here] = draws[sample[here]] * noise
    return out

"""What a map explains: one scalar of the latent code per image, usable with every method.

A target is named by a string, the same in ``aevis.explain(target=...)`` and on the command
line (``--target``), and spelled as :func:`aevis.methods.registry.parse_target` reads it:

``self`` (the default)
    t(x') = <z(x'), ẑ> with ẑ = z(x) / ‖z(x)‖ held fixed: how strongly the image expresses
    its own code. At x' = x it equals ‖z(x)‖.
``neighbour``
    The same with ẑ taken from another image's code (the nearest neighbour's), passed as
    ``reference_codes`` (N, D): what makes the image similar to that one.
``channel:K``
    The mean activation of bottleneck channel K (for a Dense bottleneck, unit K).
``reconstruction``
    −MSE(x', AE(x')) in [0, 1] space: how well the image is rebuilt.

z is the flattened bottleneck activation. Methods call :func:`make_target` once per call and
then :meth:`Target.values` or :meth:`Target.gradients` on batches of (perturbed) images,
passing the matching rows of :attr:`Target.reference`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from keras import ops

from aevis import backend
from aevis.latent.neighbours import unit_codes
from aevis.methods.batching import compiled_for
from aevis.methods.registry import DEFAULT_TARGET, parse_target


@dataclass(frozen=True, eq=False)
class Target:
    """A scalar of the latent code, one per image, differentiable with respect to the image.

    Attributes:
        ae: the autoencoder it reads.
        name: the target as written, e.g. ``'channel:3'``.
        kind: ``'self'``, ``'neighbour'``, ``'channel'`` or ``'reconstruction'``.
        channel: the bottleneck channel for ``channel:K``, else None.
        reference: float32 (N, R), per image, what the scalar is taken against: the unit code
            ẑ (R = D) for ``self`` and ``neighbour``, a one-hot row over the bottleneck
            channels for ``channel:K``, zeros (R = 1) for ``reconstruction``. For ``self`` it
            is read on first use, so a method that needs ẑ only at the image itself
            (:meth:`own_rows`) never runs the encoder for it.
    """

    ae: object = field(repr=False)
    name: str
    kind: str
    channel: int | None
    _reference: np.ndarray | None = field(repr=False)
    _images: np.ndarray | None = field(default=None, repr=False)
    _batch_size: int = field(default=32, repr=False)
    _norms: np.ndarray | None = field(default=None, repr=False)

    @property
    def reference(self) -> np.ndarray:
        if self._reference is None:  # 'self': the codes are read now, once
            codes = self.ae.encode(self._images, batch_size=self._batch_size)
            object.__setattr__(self, "_reference", unit_codes(codes))
            # Summed in float64 through einsum's small buffer, not a float64 copy of the codes.
            norms = np.sqrt(np.einsum("ij,ij->i", codes, codes, dtype=np.float64))
            object.__setattr__(self, "_norms", norms.astype(np.float32))
        return self._reference

    def __call__(self, images, reference):
        """t for a batch: [0, 1] images (B, H, W, C) tensor, reference rows (B, R) -> (B,)."""
        return _image_function(self.ae, self.kind)(images, reference)

    def traceable(self, own: bool = False) -> Callable:
        """``fn(images, reference) -> t`` on tensors, for methods that compile their own pipeline.

        It depends on the autoencoder and the kind only, so one compiled copy serves every
        call (cache it with :func:`compiled_for`). With ``own=True`` and kind ``self``, ẑ is
        taken from the same forward pass (held constant, so gradients are J^T ẑ) and the
        reference argument is ignored: pass :meth:`own_rows`. Valid only at the images the
        target was made for.
        """
        return _image_function(self.ae, self.kind, own=own)

    def own_rows(self) -> np.ndarray:
        """Reference rows for ``traceable(own=True)`` at the target's own images."""
        if self.kind == "self":
            return np.zeros((len(self._images), 1), dtype=np.float32)
        return self.reference

    def own_values(self) -> np.ndarray:
        """t at the images the target was made for, float32 (N,); for ``self`` that is ‖z(x)‖,
        known from reading ẑ, so no second forward pass."""
        if self.kind == "self":
            _ = self.reference  # reads the codes, and so their norms
            return self._norms
        return self.values(self._images, batch_size=self._batch_size)

    def score(self, images, code, reconstruction, reference):
        """t from model outputs already at hand (Grad-CAM runs the model in two halves).

        ``code`` is the raw bottleneck activation (B, ...) or None for ``reconstruction``;
        ``reconstruction`` is in [0, 1] space (B, H, W, C) or None for the other kinds.
        """
        return _score(self.kind, images, code, reconstruction, reference)

    def values(self, images: np.ndarray, reference: np.ndarray | None = None, batch_size: int = 32) -> np.ndarray:
        """t for [0, 1] images (B, H, W, C), float32 (B,), run in chunks of ``batch_size``.

        ``reference`` defaults to :attr:`reference` (then B must be N).
        """
        reference = self._rows(images, reference)
        fn = compiled_for(self.ae, ("values", self.kind), lambda: _image_function(self.ae, self.kind))
        return run_chunks(lambda x, r: (fn(x, r),), images, reference, batch_size)[0]

    def gradients(
        self, images: np.ndarray, reference: np.ndarray | None = None, batch_size: int = 32
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(t, ∂t/∂x)`` for [0, 1] images (B, H, W, C): float32 (B,) and (B, H, W, C)."""
        reference = self._rows(images, reference)
        image_fn = _image_function(self.ae, self.kind)
        fn = compiled_for(
            self.ae,
            ("gradients", self.kind),
            lambda: lambda x, r: backend.gradient(lambda v: image_fn(v, r), x),
        )
        return run_chunks(fn, images, reference, batch_size)

    def _rows(self, images, reference):
        reference = self.reference if reference is None else reference
        if len(reference) != len(images):
            raise ValueError(f"Expected one reference row per image ({len(images)}), got {len(reference)}.")
        return np.asarray(reference, dtype=np.float32)


def make_target(
    ae,
    images: np.ndarray,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    batch_size: int = 32,
) -> Target:
    """Build the :class:`Target` named ``target`` for these images.

    Args:
        ae: the :class:`aevis.model.Autoencoder`.
        images: float32 (N, H, W, C) in [0, 1]; ``self`` reads their codes here, once.
        target: ``'self'`` (default, also for None), ``'neighbour'``, ``'channel:K'`` or
            ``'reconstruction'``.
        reference_codes: float32 (N, D), for ``neighbour`` only: the code of the image each
            image is compared with (D = ``ae.code_size``); normalised here.
        batch_size: images per batch when reading codes.

    Raises:
        ValueError: an unknown target, a channel out of range, or ``reference_codes``
            missing, misshapen, or given for a target that does not use them.
    """
    kind, channel = parse_target(target, channels=ae.encoder.output.shape[-1])
    name = DEFAULT_TARGET if target is None else target
    count = len(images)
    if kind != "neighbour" and reference_codes is not None:
        raise ValueError(f"reference_codes are used by the 'neighbour' target only, not by {name!r}.")
    if kind == "self":
        reference = None  # read from the codes on first use: see Target.reference
    elif kind == "neighbour":
        if reference_codes is None:
            raise ValueError(
                "The 'neighbour' target needs reference_codes: float32 (N, D), the code of each "
                f"image's neighbour (N = {count} images, D = {ae.code_size} code values)."
            )
        codes = np.asarray(reference_codes, dtype=np.float32)
        if codes.ndim != 2 or codes.shape != (count, ae.code_size):
            raise ValueError(
                f"Expected reference_codes of shape ({count}, {ae.code_size}) for the 'neighbour' "
                f"target, got {codes.shape}."
            )
        reference = unit_codes(codes)
    elif kind == "channel":
        reference = np.zeros((count, ae.encoder.output.shape[-1]), dtype=np.float32)
        reference[:, channel] = 1.0
    else:
        reference = np.zeros((count, 1), dtype=np.float32)
    images = np.asarray(images, dtype=np.float32)
    return Target(ae, name, kind, channel, reference, images, batch_size)


def _score(kind, images, code, reconstruction, reference):
    if kind == "reconstruction":
        return -ops.mean(ops.square(images - reconstruction), axis=(1, 2, 3))
    if kind == "channel":
        spatial = tuple(range(1, len(code.shape) - 1))
        pooled = ops.mean(code, axis=spatial) if spatial else code
        # One-hot reference: one trace serves every K.
        return ops.sum(pooled * reference, axis=-1)
    flat = ops.reshape(code, (-1, reference.shape[-1]))
    return ops.sum(flat * reference, axis=-1)


def _own_self_score(code, reference):
    """<z, ẑ> with ẑ = z / ‖z‖ from this very pass, held constant: ‖z‖, with gradient J^T ẑ."""
    flat = ops.reshape(code, (-1, math.prod(code.shape[1:])))
    unit = ops.stop_gradient(ops.divide_no_nan(flat, ops.norm(flat, axis=-1, keepdims=True)))
    return ops.sum(flat * unit, axis=-1)


def _image_function(ae, kind: str, own: bool = False) -> Callable:
    spec = ae.input_spec
    if own and kind == "self":
        encoder = ae.encoder

        def own_fn(images, reference):
            return _own_self_score(encoder(spec.to_model(images), training=False), reference)

        return own_fn
    if kind == "reconstruction":
        model = ae.model

        def fn(images, reference):
            rebuilt = spec.from_model(model(spec.to_model(images), training=False))
            return _score(kind, images, None, rebuilt, reference)
    else:
        encoder = ae.encoder

        def fn(images, reference):
            return _score(kind, images, encoder(spec.to_model(images), training=False), None, reference)

    return fn


def run_chunks(fn: Callable, images: np.ndarray, reference: np.ndarray, batch_size: int) -> tuple:
    images = np.asarray(images, dtype=np.float32)
    outputs = None
    for start in range(0, len(images), batch_size):
        stop = start + batch_size
        results = [backend.to_numpy(r) for r in fn(images[start:stop], reference[start:stop])]
        if outputs is None:
            outputs = [[] for _ in results]
        for bucket, result in zip(outputs, results):
            bucket.append(result)
    return tuple(np.concatenate(bucket).astype(np.float32, copy=False) for bucket in outputs)

"""Grad-CAM: which regions of a convolutional layer's maps drive the target."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from aevis import backend
from aevis._utils.validation import check_batch_size
from aevis.methods.batching import compiled_for
from aevis.methods.targets import make_target

# Layers whose output is a spatial feature map Grad-CAM can weigh by default.
_CONV_LAYERS = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)


def gradcam(
    ae,
    images: np.ndarray,
    *,
    target: str | None = None,
    reference_codes: np.ndarray | None = None,
    layer: str | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Class-activation map of an encoder layer, weighted by the target's gradient (Selvaraju et al. 2017).

    map = ReLU(Σ_k α_k A_k), α_k the spatial mean of ∂t/∂A_k, A the layer's activation
    (h, w, K), bilinearly resized from h×w to H×W.

    Args:
        ae: the autoencoder.
        images: float32 (N, H, W, C) in [0, 1].
        target: see :mod:`aevis.methods.targets`; None means ``'self'``.
        reference_codes: (N, D) neighbour codes, for ``target='neighbour'`` only.
        layer: name of an encoder layer with a spatial output (B, h, w, K); None takes the
            last Conv2D (or separable / depthwise convolution) before the bottleneck.
        batch_size: images per evaluation.

    Returns:
        float32 (N, H, W), non-negative.

    Raises:
        ValueError: ``layer`` is not a spatial layer of the encoder, or everything from
            the layer to the target does not depend on the layer alone (a skip connection
            goes around it).
    """
    batch_size = check_batch_size(batch_size)
    name = resolve_layer(ae, layer)
    score = make_target(ae, images, target, reference_codes, batch_size=batch_size)
    fn = compiled_for(ae, ("gradcam", name, score.kind), lambda: _cam_function(ae, name, score))
    maps = [
        backend.to_numpy(fn(images[start : start + batch_size], score.reference[start : start + batch_size]))
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(maps).astype(np.float32, copy=False)


def resolve_layer(ae, layer: str | None) -> str:
    """The name of the layer Grad-CAM reads: ``layer`` checked, or the default."""
    spatial = [
        item
        for item in ae.encoder.layers
        if not isinstance(item, keras.layers.InputLayer) and len(item.output.shape) == 4
    ]
    if layer is None:
        convs = [item.name for item in spatial if isinstance(item, _CONV_LAYERS)]
        if not convs:
            raise ValueError(
                "Grad-CAM found no Conv2D layer in the encoder; name a spatial layer with option "
                f"'layer' (one of: {', '.join(item.name for item in spatial) or 'none'})."
            )
        return convs[-1]
    names = [item.name for item in spatial]
    if layer not in names and ae.graph is not None and layer in ae.graph.aliases:
        layer = ae.graph.aliases[layer]  # a nested layer named by its own name or its path
    if layer not in names:
        raise ValueError(
            f"Option 'layer' must name a spatial layer of the encoder (one of: {', '.join(names) or 'none'}), "
            f"got {layer!r}."
        )
    return layer


def _cam_function(ae, name: str, score):
    model, spec = ae.model, ae.input_spec
    activation = model.get_layer(name).output
    wants_code = score.kind != "reconstruction"
    end = model.get_layer(ae.bottleneck).output if wants_code else model.outputs[0]
    front = keras.Model(model.inputs[0], activation)
    try:
        head = _identity if end is activation else keras.Model(activation, end)
    except Exception as error:  # Keras says "graph disconnected" in several ways
        raise ValueError(
            f"Grad-CAM cannot use layer {name!r}: the {'bottleneck' if wants_code else 'output'} "
            f"does not depend on it alone ({error})."
        ) from error
    height, width = spec.height, spec.width

    def cam(images, reference):
        maps = front(spec.to_model(images), training=False)

        def target_of(a):
            out = head(a, training=False)
            if wants_code:
                return score.score(images, out, None, reference)
            return score.score(images, None, spec.from_model(out), reference)

        _, grads = backend.gradient(target_of, maps)
        weights = ops.mean(grads, axis=(1, 2), keepdims=True)
        heat = ops.relu(ops.sum(weights * maps, axis=-1, keepdims=True))
        return ops.image.resize(heat, (height, width), interpolation="bilinear")[..., 0]

    return cam


def _identity(tensor, training=False):
    """The head when Grad-CAM reads the bottleneck itself."""
    return tensor

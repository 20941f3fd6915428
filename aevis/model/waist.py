"""Where the code is: the layer of an autoencoder whose output aevis compares and explains.

A person looking at an autoencoder finds the code at its waist: the end of the encoder, where
the network is narrowest before it grows again. :func:`find_code_layer` looks in this order:

1. the layer given with ``--bottleneck`` (its own name, or a path such as ``encoder/latent``);
2. the output of a nested encoder model (the first output for a VAE's ``[z_mean, ...]``);
3. a layer named ``encoded`` (the seed autoencoder's name for its code);
4. the waist by shape. While the network is spatial, its width is its grid: the waist is the
   first layer that reaches the smallest grid, since the layers after it at that grid already
   rebuild (Chollet's decoder starts with a convolution at the code's resolution). Once it is
   flat (Dense), its width is its number of units: the waist is the narrowest Dense layer.
   Either way the code is taken after the per-pixel layers that finish it (batch
   normalisation, activation, dropout), since ``conv → BatchNorm → ReLU`` is one step.

The code may be larger than the input: overcomplete convolutional codes are common.
"""

from __future__ import annotations

import math

from keras import layers

from aevis.errors import AevisError
from aevis.model.graph import FlatGraph

CODE_NAME = "encoded"

_FINISHING = (
    layers.BatchNormalization,
    layers.LayerNormalization,
    layers.GroupNormalization,
    layers.Activation,
    layers.ReLU,
    layers.ELU,
    layers.LeakyReLU,
    layers.PReLU,
    layers.Softmax,
    layers.Dropout,
    layers.SpatialDropout2D,
    layers.GaussianNoise,
    layers.GaussianDropout,
    layers.AlphaDropout,
    layers.ActivityRegularization,
    layers.Identity,
)
"""Layers that finish the step before them without changing its shape."""


def find_code_layer(graph: FlatGraph, name: str | None = None) -> tuple[str, str]:
    """The code layer's name in ``graph`` and how it was chosen, in words.

    Raises:
        AevisError: ``name`` is not a layer, or the model has no layer between input and output.
    """
    if name is not None:
        return graph.resolve(name, "code layer"), "chosen with --bottleneck"
    if graph.encoder_code is not None:
        return graph.encoder_code, f"the output of the encoder model {graph.encoder!r}"
    if CODE_NAME in graph.tensors:
        return CODE_NAME, f"the layer named {CODE_NAME!r}"
    return _waist(graph)


def _waist(graph: FlatGraph) -> tuple[str, str]:
    shapes = _shapes_between(graph)
    if not shapes:
        raise AevisError("Expected layers between the input and the output, but the model has none.")
    widths = {name: _width(shape) for name, shape in shapes.items()}
    narrowest = min(widths.values())
    input_grid = math.prod(graph.model.inputs[0].shape[1:3])
    if narrowest[0] == input_grid:
        raise AevisError(
            f"Expected a waist where the network narrows, but every layer keeps the input's "
            f"{graph.model.inputs[0].shape[1]}×{graph.model.inputs[0].shape[2]} grid; name the code layer "
            "with --bottleneck."
        )
    waist = next(name for name, width in widths.items() if width == narrowest)
    end = _finished(graph, waist)
    grid = shapes[waist][:-1]
    if len(grid) == 2:
        how = f"the end of the encoder: the first layer at the smallest grid, {grid[0]}×{grid[1]}"
    else:
        how = f"the end of the encoder: the narrowest flat layer, {math.prod(shapes[waist])} values"
    if end != waist:
        how += f", after the layers that finish {waist!r}"
    return end, how


def _shapes_between(graph: FlatGraph) -> dict[str, tuple[int, ...]]:
    """Output shape of every layer strictly between input and output, in graph order."""
    output = graph.model.outputs[0]._keras_history.operation.name
    shapes = {}
    for name in graph.layer_names():
        shape = tuple(graph.tensors[name].shape[1:])
        if name != output and None not in shape:
            shapes[name] = shape
    return shapes


def _width(shape: tuple[int, ...]) -> tuple[int, int]:
    """(grid cells, values): a map is as wide as its grid, a flat layer narrower than any map."""
    if len(shape) == 3:
        return (shape[0] * shape[1], 0)
    return (0, math.prod(shape))


def _finished(graph: FlatGraph, name: str) -> str:
    """``name``, or the last of the per-pixel layers that follow it one by one."""
    consumers = _consumers(graph)
    while len(consumers.get(name, ())) == 1:
        follower = graph.model.get_layer(consumers[name][0])
        same_shape = tuple(graph.tensors[follower.name].shape) == tuple(graph.tensors[name].shape)
        if not (isinstance(follower, _FINISHING) and same_shape):
            break
        name = follower.name
    return name


def _consumers(graph: FlatGraph) -> dict[str, list[str]]:
    """Layer name to the names of the layers that read its output in ``graph``."""
    consumers: dict[str, list[str]] = {}
    for name, tensor in graph.tensors.items():
        operation, node_index, _ = tensor._keras_history
        for source in operation._inbound_nodes[node_index].input_tensors:
            consumers.setdefault(source._keras_history.operation.name, []).append(name)
    return consumers

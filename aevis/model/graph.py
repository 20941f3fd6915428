"""Any Keras autoencoder as one flat functional graph of its own layers.

People write autoencoders as ``keras.Sequential`` models, as functional models, as models
whose encoder and decoder are models of their own (the keras.io style), or as an encoder and
a decoder saved apart. aevis reads layers by name and takes their outputs (Grad-CAM, the layer
strip, incremental occlusion, the randomization check), which needs one functional graph in
which every layer is called once. :func:`flatten` rebuilds any of these forms as such a graph:
nested models are opened, every leaf layer is copied (same config, same weights) and called
once, and a name that repeats across sub-models is prefixed with its sub-model's name. The
user's model is not touched.

Variational autoencoders draw their code at random (a ``Sampling`` layer fed ``[z_mean,
z_log_var]``). aevis needs the same maps and pictures every time, so a layer that takes
several same-shaped inputs and answers the same question differently twice is replaced by
its first input: the code is ``z_mean``, and the decoder rebuilds from it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import keras
import numpy as np
from keras.src.models.functional import Functional  # the graph walker is not public API

from aevis.errors import AevisError
from aevis.model.files import keras_objection


@dataclass(frozen=True)
class FlatGraph:
    """An autoencoder as one flat functional graph.

    Attributes:
        model: image to reconstruction; each layer a copy of the user's, called once.
        tensors: layer name to its output in ``model``'s graph (read these, not
            ``layer.output``: a layer called again elsewhere has several).
        aliases: every name a user may give a layer (its own name where unique, its path
            such as ``'encoder/latent'``, a sub-model's name for that model's code) to its
            name in ``model``.
        encoder: the name of the nested model that encodes (the first of the top-level
            sub-models whose output is not the reconstruction), or None without one.
        encoder_code: the layer whose output is that sub-model's code (its first output).
        sampled: the layers replaced by their first input, because they sample at random.
    """

    model: keras.Model
    tensors: dict[str, object]
    aliases: dict[str, str]
    encoder: str | None = None
    encoder_code: str | None = None
    sampled: tuple[str, ...] = ()

    def resolve(self, name: str, what: str = "layer") -> str:
        """The graph's name for a layer a user named; AevisError listing the choices if none."""
        if name in self.aliases:
            return self.aliases[name]
        ambiguous = sorted(path for path in self.aliases if path.rsplit("/", 1)[-1] == name and "/" in path)
        if ambiguous:
            raise AevisError(
                f"Expected one {what} named {name!r}, but several sub-models have one; name it by its path: "
                f"{', '.join(ambiguous)}."
            )
        raise AevisError(
            f"Expected a {what} named {name!r}, but the model's layers are: {', '.join(self.layer_names())}."
        )

    def layer_names(self) -> list[str]:
        """The graph's layer names in order, input excluded."""
        return [layer.name for layer in self.model.layers if not isinstance(layer, keras.layers.InputLayer)]


def has_graph(model: keras.Model) -> bool:
    """Whether aevis can see ``model``'s layers: Sequential and functional models, not subclassed ones."""
    return isinstance(model, (Functional, keras.Sequential))


def flatten(model: keras.Model) -> FlatGraph:
    """Rebuild a Sequential, functional or nested Keras model as a :class:`FlatGraph`."""
    builder = _Builder()
    image = keras.Input(_input_shape(model), name="image")
    output = builder.open(model, image, path=())
    if len(keras.tree.flatten(output)) != 1:
        raise AevisError(
            f"Expected an autoencoder with one output, the rebuilt image, but {model.name!r} has "
            f"{len(keras.tree.flatten(output))} outputs."
        )
    return builder.graph(image, keras.tree.flatten(output)[0], final=model)


def flatten_pair(encoder: keras.Model, decoder: keras.Model) -> FlatGraph:
    """Join an encoder and a decoder into one :class:`FlatGraph`; the decoder reads the
    encoder's first output (``z_mean`` for a VAE encoder giving ``[z_mean, z_log_var, z]``)."""
    builder = _Builder()
    image = keras.Input(_input_shape(encoder), name="image")
    code = keras.tree.flatten(builder.open(encoder, image, path=(encoder.name,)))[0]
    output = keras.tree.flatten(builder.open(decoder, code, path=(decoder.name,)))
    if len(output) != 1:
        raise AevisError(
            f"Expected a decoder with one output, the rebuilt image, but {decoder.name!r} has {len(output)}."
        )
    builder.top_level[:] = [(encoder.name, [code]), (decoder.name, output)]
    return builder.graph(image, output[0], final=None)


def _input_shape(model: keras.Model) -> tuple:
    try:
        inputs = model.inputs
    except AttributeError:  # a Sequential model that was never built
        inputs = None
    if not inputs:
        raise AevisError(
            f"Expected a model that knows its input shape, but {model.name!r} was never built; "
            "start it with keras.Input((height, width, channels)) or call it once on an image before saving."
        )
    if len(inputs) != 1:
        raise AevisError(f"Expected an autoencoder with one image input, but {model.name!r} has {len(inputs)} inputs.")
    return tuple(inputs[0].shape[1:])


@dataclass
class _Builder:
    """Walks nested models, copying each leaf layer into the flat graph."""

    tensors: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)  # 'encoder/latent' -> flat name
    top_level: list = field(default_factory=list)  # (sub-model name, its flat outputs), in call order
    sampled: list = field(default_factory=list)

    def open(self, model, inputs, path: tuple[str, ...]):
        """Call ``model``'s layers on ``inputs`` in the flat graph; return its outputs."""
        if isinstance(model, keras.Sequential):
            outputs = inputs
            for layer in model.layers:
                outputs = self.call(layer, path, (outputs,), {})
            return outputs
        if isinstance(model, Functional):
            return model._run_through_graph(
                keras.tree.flatten(inputs),
                operation_fn=lambda operation: operation,
                call_fn=lambda operation, *args, **kwargs: self.call(operation, path, args, kwargs),
            )
        raise AevisError(
            f"Expected a Sequential or functional Keras model, but {model.name!r} is a subclassed model "
            f"({type(model).__name__}) whose layers aevis cannot see; give it encoder and decoder attributes "
            "that are Keras models, or save them apart and pass --encoder and --decoder."
        )

    def call(self, operation, path: tuple[str, ...], args, kwargs):
        if isinstance(operation, keras.Model):
            outputs = self.open(operation, args[0], path + (operation.name,))
            if not path:
                self.top_level.append((operation.name, keras.tree.flatten(outputs)))
            return outputs
        if _samples_at_random(operation, args):
            self.sampled.append("/".join(path + (operation.name,)))
            return args[0][0]
        return self.copy(operation, path, args, kwargs)

    def copy(self, layer, path: tuple[str, ...], args, kwargs):
        """Call a copy of ``layer`` with its weights; the flat name is its own, or prefixed on a clash."""
        name = layer.name
        taken = {*self.tensors, "image"}
        if name in taken:
            name = "_".join(path[-1:] + (layer.name,))
            while name in taken:
                name += "_"
        try:
            config = {**layer.get_config(), "name": name}
            if isinstance(layer, keras.layers.Lambda):
                # Its code is in memory already (the file was trusted, or never saved): copying
                # it runs nothing new.
                twin = keras.layers.Lambda.from_config(config, safe_mode=False)
            else:
                twin = type(layer).from_config(config)
        except Exception as error:  # a custom layer's config is the user's code: any error
            raise AevisError(
                f"Expected layers aevis can copy, but {layer.name!r} ({type(layer).__name__}) could not be "
                f"rebuilt from its get_config() ({type(error).__name__}: {keras_objection(str(error))})."
            ) from error
        outputs = twin(*args, **kwargs)
        twin.set_weights(layer.get_weights())
        self.tensors[name] = keras.tree.flatten(outputs)[0]
        self.paths["/".join(path + (layer.name,))] = name
        return outputs

    def graph(self, image, output, final) -> FlatGraph:
        model = keras.Model(image, output, name=getattr(final, "name", None) or "autoencoder")
        kept = {layer.name for layer in model.layers}
        tensors = {name: tensor for name, tensor in self.tensors.items() if name in kept}
        encoder, code = self._encoder(output)
        return FlatGraph(model, tensors, self._aliases(kept, encoder, code), encoder, code, tuple(self.sampled))

    def _encoder(self, output) -> tuple[str | None, str | None]:
        """The first top-level sub-model whose code is not the reconstruction, and its code layer."""
        for name, outputs in self.top_level:
            if outputs[0] is not output:
                return name, outputs[0]._keras_history.operation.name
        return None, None

    def _aliases(self, kept: set[str], encoder: str | None, code: str | None) -> dict[str, str]:
        paths = {path: name for path, name in self.paths.items() if name in kept}
        owners = Counter(path.rsplit("/", 1)[-1] for path in paths)
        aliases = {name: name for name in paths.values() if owners[name] < 2}
        aliases.update(
            {path.rsplit("/", 1)[-1]: name for path, name in paths.items() if owners[path.rsplit("/", 1)[-1]] == 1}
        )
        aliases.update(paths)
        if encoder is not None and encoder not in aliases:
            aliases[encoder] = code
        return aliases


def _samples_at_random(layer, args) -> bool:
    """A custom layer fed several tensors of one shape that gives two answers to one question:
    a VAE's sampling layer, ``Sampling()([z_mean, z_log_var])``."""
    if type(layer).__module__.startswith("keras.") or len(args) != 1:
        return False
    inputs = args[0]
    if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
        return False
    shapes = {tuple(getattr(tensor, "shape", ())) for tensor in inputs}
    if len(shapes) != 1 or None in next(iter(shapes))[1:]:
        return False
    shape = (2, *next(iter(shapes))[1:])
    rng = np.random.default_rng(0)
    probe = [rng.standard_normal(shape).astype("float32") for _ in inputs]
    try:
        first, second = (keras.ops.convert_to_numpy(layer(probe)) for _ in range(2))
    except Exception:  # a layer that cannot run on a probe is left as it is
        return False
    return first.shape == shape and not np.array_equal(first, second)

"""What the methods are and what they can be asked, declared once: each method's name, whether
it explains a target, its options with their defaults, and the target grammar.

Everything else reads this: ``aevis.explain`` and ``aevis.methods.METHODS``, each method's
own defaults, :class:`~aevis.config.BuildConfig`'s checks and the command line's choices and
help. It imports no TensorFlow, so ``aevis --help`` and argument errors stay instant.
"""

from __future__ import annotations

import importlib
import math
import numbers
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """One option of a method: a keyword of its function, a BuildConfig field and a ``--flag``."""

    name: str
    help: str
    """One line for ``--help``, without the default."""
    default: int | float | str | None
    """The method's default; None where it is worked out from the images or the model."""
    type: type = int
    choices: tuple[str, ...] | None = None
    default_text: str = ""
    """The default in words, where ``default`` is None."""
    minimum: float | None = None
    maximum: float | None = None
    """The bounds a number must keep, inclusive; None: unbounded on that side."""

    def check(self, value):
        """``value`` if this option may take it, else a ValueError naming the option and its limits."""
        if self.choices is not None:
            if value not in self.choices:
                raise ValueError(f"Option {self.name!r} must be one of {', '.join(self.choices)}, got {value!r}.")
            return value
        if self.type is str:
            if not isinstance(value, str) or not value:
                raise ValueError(f"Option {self.name!r} must be a name, got {value!r}.")
            return value
        whole = self.type is int
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral if whole else numbers.Real)
            or not math.isfinite(value)
        ):
            kind = "a whole number" if whole else "a number"
            raise ValueError(f"Option {self.name!r} must be {kind}, got {value!r}.")
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise ValueError(f"Option {self.name!r} must be {self.limits}, got {value!r}.")
        return self.type(value)

    @property
    def limits(self) -> str:
        """The bounds in words: 'at least 1', 'between 0 and 1'."""
        if self.maximum is None:
            return f"at least {self.minimum}"
        return f"between {self.minimum} and {self.maximum}"

    @property
    def default_help(self) -> str:
        """The default as ``--help`` states it: '(default 20)', '(default: half a patch)'."""
        return f"(default {self.default})" if self.default is not None else f"(default: {self.default_text})"


@dataclass(frozen=True)
class Method:
    """A method, reached as ``aevis.explain(ae, images, method=name, ...)``."""

    name: str
    """Also its module and function: ``aevis/methods/<name>.py`` defines ``<name>()``."""
    title: str
    """How help text names it."""
    takes_target: bool = True
    """Explains a target (:data:`TARGET_NAMES`); False describes the whole autoencoder."""
    options: tuple[Option, ...] = ()
    seeded: bool = False
    """Takes the build's ``--seed`` as its option ``seed``."""

    @property
    def defaults(self) -> dict:
        """Option name to default, which the method's function takes as its own."""
        return {option.name: option.default for option in self.options}

    def option(self, name: str) -> Option:
        """The option called ``name``."""
        return next(option for option in self.options if option.name == name)

    @property
    def function(self):
        """The method's function (importing it loads TensorFlow)."""
        return getattr(importlib.import_module(f"aevis.methods.{self.name}"), self.name)


REGISTRY = {
    method.name: method
    for method in (
        Method("reconstruction_error", "Reconstruction error", takes_target=False),
        Method("saliency", "Saliency"),
        Method(
            "smoothgrad",
            "SmoothGrad",
            seeded=True,
            options=(
                Option("samples", "noisy copies per image", 20, minimum=1),
                Option("noise", "noise as a fraction of the pixel range", 0.15, float, minimum=0, maximum=1),
            ),
        ),
        Method(
            "integrated_gradients",
            "Integrated Gradients",
            options=(
                Option("steps", "steps along the path", 32, minimum=1),
                Option("baseline", "the starting image", "grey", str, choices=("grey", "black", "blurred", "mean")),
            ),
        ),
        Method(
            "gradcam",
            "Grad-CAM",
            options=(
                Option(
                    "layer",
                    "the layer to explain, by name or path such as encoder/conv2d",
                    None,
                    str,
                    default_text="the last encoder convolution",
                ),
            ),
        ),
        Method(
            "occlusion",
            "Occlusion",
            options=(
                Option("patch", "patch side in pixels", None, default_text="an eighth of the image", minimum=1),
                Option(
                    "stride", "step between patches, at most the patch", None, default_text="half a patch", minimum=1
                ),
                Option("fill", "the patch's grey level in [0, 1]", 0.5, float, minimum=0, maximum=1),
            ),
        ),
    )
}
"""Every method, by name."""

TARGET_METHODS = tuple(name for name, method in REGISTRY.items() if method.takes_target)
"""The methods that explain a target: those a build can draw on its pages (all, by default)."""


def method_named(name: str, among: tuple[str, ...] | list[str] = tuple(REGISTRY)) -> Method:
    """The method called ``name``, or a ValueError listing ``among``, the names allowed here."""
    if name not in among:
        raise ValueError(f"Unknown method {name!r}; expected one of {', '.join(among)}.")
    return REGISTRY[name]


def occlusion_geometry(height: int, width: int, patch: int | None = None, stride: int | None = None) -> tuple[int, int]:
    """Occlusion's ``(patch, stride)`` on ``height`` x ``width`` images, its defaults filled in:
    patch ⌈height / 8⌉, stride ⌈patch / 2⌉. A ValueError where the patch does not fit the image,
    or a stride longer than the patch would leave pixels that no patch covers."""
    occlusion = REGISTRY["occlusion"]
    patch = math.ceil(height / 8) if patch is None else occlusion.option("patch").check(patch)
    stride = math.ceil(patch / 2) if stride is None else occlusion.option("stride").check(stride)
    if patch > min(height, width):
        raise ValueError(f"Option 'patch' must fit in the {height}x{width} image, got {patch}.")
    if stride > patch:
        raise ValueError(
            f"Option 'stride' {stride} is longer than the patch ({patch}) and would leave pixels "
            f"that no patch covers; use a stride of at most {patch}."
        )
    return int(patch), int(stride)


# ------------------------------------------------------------------ the target grammar

TARGET_NAMES = ("self", "neighbour", "channel:K", "reconstruction")
"""How a target is written, in ``aevis.explain(target=...)`` and ``--target``; K is a
bottleneck channel (see :mod:`aevis.methods.targets` for what each one means)."""
DEFAULT_TARGET = "self"


def parse_target(target: str | None, channels: int | None = None) -> tuple[str, int | None]:
    """``(kind, channel)`` for a target string; None means ``'self'``.

    ``channels`` is the bottleneck's channel count, known once a model is loaded; K must be
    below it. Without it (a config checked before loading) K need only be 0 or more.
    """
    if target is None:
        return DEFAULT_TARGET, None
    if not isinstance(target, str):
        raise ValueError(f"Expected a target string ({', '.join(TARGET_NAMES)}), got {target!r}.")
    if target in TARGET_NAMES and ":" not in target:
        return target, None
    if not target.startswith("channel:"):
        raise ValueError(f"Unknown target {target!r}; expected one of {', '.join(TARGET_NAMES)}.")
    try:
        channel = int(target[len("channel:") :])
    except ValueError:
        raise ValueError(f"Expected 'channel:K' with K a whole number, got {target!r}.") from None
    if channel < 0 or (channels is not None and channel >= channels):
        allowed = (
            "K must be 0 or more"
            if channels is None
            else f"the bottleneck has {channels} channels, so K must be 0 to {channels - 1}"
        )
        raise ValueError(f"Target {target!r} is out of range: {allowed}.")
    return "channel", channel

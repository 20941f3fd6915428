"""The settings that made a build, as the report page lists them: those that applied, no others.

The manifest keeps every parameter, for scripts; a person reading the report should not be told
the seed autoencoder's epochs when their own model was given, nor a built-in set's size when
their own images were read.
"""

from __future__ import annotations

from aevis.methods.registry import REGISTRY

_SEED_TRAINING = ("image_size", "filters", "epochs")
"""What only a seed autoencoder trained in the build reads."""
_BUILT_IN_IMAGES = ("dataset", "count")
"""What only a built-in image set reads."""
_MAP_SETTINGS = ("target", "faithfulness_sample")
"""What only heat-maps read."""


def applied_settings(parameters: dict) -> tuple[tuple[str, str], ...]:
    """(name, value in words) of each setting in ``parameters`` (the manifest's record of the
    build's configuration) that this build used, in the record's order.

    Left out: the seed's training settings where a model was given, the built-in set's where
    images were, heat-map settings where no method was drawn, a method's options where it was
    not, and what was not given (no --compare, no --custom-objects). A method option left to
    its default is shown as that default.
    """
    given_model = parameters.get("model") is not None or parameters.get("encoder") is not None
    methods = set(parameters.get("methods") or ())
    unused = set()
    if given_model:
        unused.update(_SEED_TRAINING)
    if parameters.get("images") is not None:
        unused.update(_BUILT_IN_IMAGES)
    if not methods:
        unused.update(_MAP_SETTINGS)
    options = {}
    for method in REGISTRY.values():
        for option in method.options:
            if method.name in methods:
                options[option.name] = option
            else:
                unused.add(option.name)
    unused -= set(options)  # an option two methods share applies when either is drawn
    shown = []
    for name, value in parameters.items():
        if name in unused:
            continue
        if value is None and name in options:
            option = options[name]
            shown.append(
                (
                    name,
                    f"{option.default} (default)" if option.default is not None else f"{option.default_text} (default)",
                )
            )
        elif name == "pages" and value is None:
            shown.append((name, "every image"))
        elif value is not None:
            shown.append((name, _words(value)))
    return tuple(shown)


def _words(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) if value else "none"
    return str(value)

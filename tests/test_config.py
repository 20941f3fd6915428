"""The config and the command line: method names, options and targets come from the registry."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from aevis.cli import config_from_arguments, parser
from aevis.config import BuildConfig
from aevis.methods.registry import REGISTRY, TARGET_METHODS

ATTRIBUTION = "saliency, smoothgrad, integrated_gradients, gradcam, occlusion"


def _flags() -> dict:
    """The parser's arguments by flag."""
    return {flag: action for action in parser()._actions for flag in action.option_strings}


def _error_of(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exit_info:
        config_from_arguments(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


# ------------------------------------------------------------------ names and targets


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"methods": ("saliency", "nope")}, f"Unknown method 'nope'; expected one of {ATTRIBUTION}."),
        (
            {"pair_method": "reconstruction_error"},
            f"Unknown method 'reconstruction_error'; expected one of {ATTRIBUTION}.",
        ),
        (
            {"target": "selfish"},
            "Unknown target 'selfish'; expected one of self, neighbour, channel:K, reconstruction.",
        ),
        ({"target": "channel:x"}, "Expected 'channel:K' with K a whole number, got 'channel:x'."),
        ({"target": "channel:-1"}, "Target 'channel:-1' is out of range: K must be 0 or more."),
    ],
)
def test_unknown_names_are_refused_with_what_was_expected(fields, message):
    with pytest.raises(ValueError) as error:
        BuildConfig(**fields)
    assert str(error.value) == message


def test_every_target_spelling_is_accepted():
    for target in ("self", "neighbour", "reconstruction", "channel:0", "channel:12"):
        assert BuildConfig(target=target).target == target
    assert BuildConfig(pair_method=None, methods=()).methods == ()


def test_command_line_errors_name_the_target_and_the_option(capsys):
    assert _error_of(capsys, ["--target", "selfish"]) == (
        "aevis: error: Unknown target 'selfish'; expected one of self, neighbour, channel:K, reconstruction."
    )
    assert _error_of(capsys, ["--colour-map", "hot"]) == "aevis: error: unrecognized arguments: --colour-map hot"
    assert _error_of(capsys, ["--baseline", "white"]) == (
        "aevis: error: argument --baseline: invalid choice: 'white' (choose from 'grey', 'black', 'blurred', 'mean')"
    )
    with pytest.raises(TypeError, match="colour_map"):
        BuildConfig(colour_map="hot")


# ------------------------------------------------------------------ derived from the registry


def test_method_choices_are_the_registry_target_methods():
    assert TARGET_METHODS == ("saliency", "smoothgrad", "integrated_gradients", "gradcam", "occlusion")
    assert TARGET_METHODS == tuple(name for name, method in REGISTRY.items() if method.takes_target)
    actions = _flags()
    assert tuple(actions["--methods"].choices) == TARGET_METHODS
    assert tuple(actions["--pair-method"].choices) == TARGET_METHODS
    assert BuildConfig().methods == TARGET_METHODS
    assert tuple(actions["--baseline"].choices) == REGISTRY["integrated_gradients"].option("baseline").choices


def test_every_option_is_a_config_field_a_flag_and_left_to_the_method_by_default():
    fields = {field.name: field for field in dataclasses.fields(BuildConfig)}
    actions = _flags()
    for method in REGISTRY.values():
        for option in method.options:
            assert fields[option.name].default is None, option.name
            assert fields[option.name].type == f"{option.type.__name__} | None", option.name
            flag = actions[f"--{option.name}"]
            assert (flag.dest, flag.type, flag.default) == (option.name, option.type, None)


def test_help_lists_every_option_with_its_default():
    text = " ".join(parser().format_help().split())  # argparse wraps lines
    expected = [
        "--samples SAMPLES SmoothGrad: noisy copies per image (default 20)",
        "--noise NOISE SmoothGrad: noise as a fraction of the pixel range (default 0.15)",
        "--steps STEPS Integrated Gradients: steps along the path (default 32)",
        "--baseline {grey,black,blurred,mean} Integrated Gradients: the starting image (default grey)",
        "--layer LAYER Grad-CAM: the layer to explain, by name or path such as encoder/conv2d "
        "(default: the last encoder convolution)",
        "--patch PATCH Occlusion: patch side in pixels (default: an eighth of the image)",
        "--stride STRIDE Occlusion: step between patches, at most the patch (default: half a patch)",
        "--fill FILL Occlusion: the patch's grey level in [0, 1] (default 0.5)",
    ]
    for line in expected:
        assert line in text
    declared = [(method, option) for method in REGISTRY.values() for option in method.options]
    assert len(declared) == len(expected)
    for method, option in declared:
        assert f"{method.title}: {option.help} {option.default_help}" in text
    assert "--target TARGET what the maps explain: self, neighbour, channel:K or reconstruction (default: self)" in text


def test_command_line_fills_the_method_options():
    config = config_from_arguments(
        ["--samples", "5", "--noise", "0.2", "--baseline", "mean", "--patch", "4", "--fill", "0"]
    )
    assert (config.samples, config.noise, config.baseline, config.patch, config.fill) == (5, 0.2, "mean", 4, 0.0)
    assert isinstance(config.fill, float) and isinstance(config.patch, int)


def test_method_options_are_those_given_plus_batch_size_and_seed():
    config = BuildConfig(samples=5, patch=4, fill=0.0, seed=3, batch_size=8)
    assert config.method_options("saliency") == {"batch_size": 8}
    assert config.method_options("smoothgrad") == {"samples": 5, "seed": 3, "batch_size": 8}
    assert config.method_options("integrated_gradients") == {"batch_size": 8}
    assert config.method_options("occlusion") == {"patch": 4, "fill": 0.0, "batch_size": 8}
    with pytest.raises(ValueError) as error:
        config.method_options("nope")
    assert str(error.value) == (
        "Unknown method 'nope'; expected one of reconstruction_error, saliency, smoothgrad, "
        "integrated_gradients, gradcam, occlusion."
    )


def test_the_command_line_loads_no_tensorflow():
    # --help and argument errors are instant: the registry and the config import no Keras.
    code = "import sys, aevis.cli; print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'numpy'}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------ option limits, checked before any work


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--samples", "0"], "Option 'samples' must be at least 1, got 0."),
        (["--noise", "-3"], "Option 'noise' must be between 0 and 1, got -3.0."),
        (["--noise", "nan"], "Option 'noise' must be a number, got nan."),
        (["--steps", "0"], "Option 'steps' must be at least 1, got 0."),
        (["--patch", "0"], "Option 'patch' must be at least 1, got 0."),
        (["--fill", "2"], "Option 'fill' must be between 0 and 1, got 2.0."),
        (["--patch", "1000"], "Option 'patch' must fit in the 32x32 image, got 1000."),
        (
            ["--stride", "1000"],
            "Option 'stride' 1000 is longer than the patch (4) and would leave pixels that no "
            "patch covers; use a stride of at most 4.",
        ),
        (
            ["--patch", "4", "--stride", "5"],
            "Option 'stride' 5 is longer than the patch (4) and would leave pixels "
            "that no patch covers; use a stride of at most 4.",
        ),
    ],
)
def test_bad_option_values_are_refused_by_the_command_line(capsys, argv, message):
    assert _error_of(capsys, argv) == f"aevis: error: {message}"


def test_option_limits_hold_for_the_python_api_too():
    with pytest.raises(ValueError, match="'samples' must be at least 1"):
        BuildConfig(samples=0)
    with pytest.raises(ValueError, match="'patch' must fit in the 64x64 image"):
        BuildConfig(dataset="shapes", patch=65)
    # Without occlusion among the methods, its geometry binds nothing.
    assert BuildConfig(dataset="shapes", patch=65, methods=("saliency",), pair_method=None).patch == 65


def test_a_bad_option_for_a_given_model_is_refused_before_any_image_is_encoded(tmp_path, monkeypatch):
    from aevis.errors import AevisError
    from aevis.model import Autoencoder
    from aevis.pipeline import build
    from tests.models import tiny_seed

    model = tmp_path / "ae.keras"
    tiny_seed().save(model)

    def never(*_, **__):
        raise AssertionError("the build did work before refusing the option")

    monkeypatch.setattr(Autoencoder, "encode", never)
    monkeypatch.setattr("aevis.stages.loading.read_images", never)
    with pytest.raises(AevisError, match=r"^Option 'stride' 9 is longer than the patch \(2\)"):
        build(BuildConfig(out=tmp_path / "site", model=model, stride=9, quiet=True))
    assert not (tmp_path / "site").exists()

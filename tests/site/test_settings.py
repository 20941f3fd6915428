"""The report lists the settings that applied to the build, and no others."""

from __future__ import annotations

from pathlib import Path

from aevis.config import BuildConfig
from aevis.site.settings import applied_settings


def _shown(**given) -> dict[str, str]:
    return dict(applied_settings(BuildConfig(**given).as_record()))


def test_a_given_model_on_given_images_shows_no_seed_training_and_no_built_in_set():
    shown = _shown(model=Path("denoiser.keras"), images=Path("scans"), methods=("saliency", "smoothgrad"))
    assert shown["model"] == "denoiser.keras" and shown["images"] == "scans"
    for absent in ("epochs", "filters", "image_size", "dataset", "count"):
        assert absent not in shown
    assert shown["methods"] == "saliency, smoothgrad"
    assert shown["samples"] == "20 (default)" and shown["noise"] == "0.15 (default)"  # SmoothGrad's, drawn
    for absent in ("steps", "baseline", "patch", "stride", "fill", "layer"):  # methods not drawn
        assert absent not in shown
    assert "compare" not in shown and "custom_objects" not in shown and "bottleneck" not in shown  # not given


def test_the_seed_on_a_built_in_set_shows_its_training_and_the_set():
    shown = _shown(dataset="shapes", count=200, epochs=3, pages=None, patch=6)
    assert (shown["dataset"], shown["count"], shown["epochs"]) == ("shapes", "200", "3")
    assert shown["filters"] == "32, 64, 128, 256" and shown["pages"] == "every image"
    assert shown["patch"] == "6" and shown["stride"] == "half a patch (default)"
    assert "images" not in shown and "model" not in shown


def test_no_methods_no_map_settings():
    shown = _shown(methods=(), pair_method=None)
    assert shown["methods"] == "none"
    for absent in ("target", "faithfulness_sample", "samples", "steps", "pair_method"):
        assert absent not in shown

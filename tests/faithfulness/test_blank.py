"""Maps that show nothing are called so: flagged ``blank:<method>`` and cautioned on their card."""

from __future__ import annotations

import json

import keras
import numpy as np
from keras import layers

from aevis.config import BuildConfig
from aevis.faithfulness.blank import blank_flag, blank_maps, blank_method
from aevis.pipeline import build
from aevis.site import urls


def test_flat_maps_are_blank_and_maps_with_any_relief_are_not():
    rng = np.random.default_rng(0)
    maps = np.stack(
        [
            np.zeros((8, 8)),  # Grad-CAM with nothing positive
            np.full((8, 8), 3.0),  # constant, not zero
            np.full((8, 8), 3.0) + rng.normal(0, 1e-8, (8, 8)),  # constant up to float32 rounding
            rng.random((8, 8)),
            rng.random((8, 8)) * 1e-9,  # small but with a shape: not blank
            np.where(np.eye(8), np.nan, 0.0),  # non-finite: flagged for that, not as blank
        ]
    ).astype(np.float32)
    assert blank_maps(maps).tolist() == [True, True, True, False, False, False]


def test_the_flag_names_its_method():
    assert blank_flag("gradcam") == "blank:gradcam"
    assert blank_method("blank:gradcam") == "gradcam"
    assert blank_method("non-finite values in its code") is None


def _model_whose_gradcam_is_blank() -> keras.Model:
    """ReLU features, then a code that falls as they rise: z = 10 − 0.1·Σ features > 0.

    With the ``self`` target t = ‖z‖, every gradient ∂t/∂A is negative and every activation A
    is positive, so Grad-CAM's ReLU(Σ_k α_k A_k) is zero everywhere; saliency is not.
    """
    keras.utils.set_random_seed(3)
    image = keras.Input((16, 16, 1))
    features = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="features")(image)
    code = layers.Dense(
        2,
        name="encoded",
        kernel_initializer=keras.initializers.Constant(-0.1),
        bias_initializer=keras.initializers.Constant(10.0),
    )(features)
    rebuilt = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(code)
    return keras.Model(image, rebuilt)


def test_a_blank_gradcam_is_flagged_in_the_manifest_and_cautioned_on_its_card(tmp_path):
    model = tmp_path / "falling-code.keras"
    _model_whose_gradcam_is_blank().save(model)
    config = BuildConfig(
        out=tmp_path / "site",
        cache_dir=tmp_path / "cache",
        model=model,
        dataset="shapes",
        count=6,
        methods=("saliency", "gradcam"),
        pair_method=None,
        faithfulness_sample=0,
        neighbours=2,
        input_scale="0-1",
        quiet=True,
    )
    build(config)
    manifest = json.loads((tmp_path / "site" / urls.MANIFEST).read_text())
    paged = [record for record in manifest["images"] if record["page"]]
    assert paged and all("blank:gradcam" in record["flags"] for record in paged)
    assert not any("blank:saliency" in record["flags"] for record in manifest["images"])
    page = (tmp_path / "site" / paged[0]["page"]).read_text()
    assert "This map is blank: Grad-CAM found nothing to point at" in page
    assert "This map is blank: Saliency" not in page
    assert 'role="alert"' not in page  # a blank map is not a numerical problem of the network
    report = (tmp_path / "site" / urls.REPORT).read_text()
    assert "Blank maps" in report and f"Grad-CAM: {len(paged)} pages" in report

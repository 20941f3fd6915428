"""The attribution methods, checked against numbers worked out independently of them."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from aevis.methods import METHODS, TARGET_METHODS, explain
from aevis.methods.integrated_gradients import make_baseline
from aevis.methods.occlusion import occlusion_geometry
from aevis.methods.registry import REGISTRY
from tests.models import LINEAR_WEIGHTS, random_images

# Small settings so every test runs in well under a second.
FAST = {
    "saliency": {},
    "smoothgrad": {"samples": 4},
    "integrated_gradients": {"steps": 8},
    "gradcam": {},
    "occlusion": {"patch": 4, "stride": 2},
}


def _self_target(ae, images, probes):
    """t(x') = <z(x'), z(x)/|z(x)|> in float64, from the autoencoder's own encode()."""
    codes = ae.encode(images).astype(np.float64)
    unit = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    return np.sum(ae.encode(probes).astype(np.float64).reshape(len(probes), -1) * unit, axis=1)


# ------------------------------------------------------------------ contract, every method


@pytest.mark.parametrize("method", TARGET_METHODS)
def test_contract(seed_ae, method):
    images = random_images(2, 16)
    maps = explain(seed_ae, images, method, **FAST[method])
    assert maps.shape == (2, 16, 16)
    assert maps.dtype == np.float32
    assert np.isfinite(maps).all()
    assert np.abs(maps).sum() > 0
    for target in ("channel:3", "reconstruction"):
        other = explain(seed_ae, images, method, target=target, **FAST[method])
        assert other.shape == (2, 16, 16) and np.isfinite(other).all()


@pytest.mark.parametrize("method", TARGET_METHODS)
def test_unknown_option_is_named(seed_ae, method):
    with pytest.raises(TypeError, match="colour_map"):
        explain(seed_ae, random_images(1, 16), method, colour_map="hot")


BAD_OPTIONS = [
    ("saliency", {"batch_size": 0}, "batch_size"),
    ("smoothgrad", {"samples": 0}, "samples"),
    ("smoothgrad", {"noise": -0.1}, "noise"),
    ("smoothgrad", {"samples": 2.5}, "samples"),
    ("integrated_gradients", {"steps": 0}, "steps"),
    ("integrated_gradients", {"baseline": "white"}, "grey, black, blurred, mean"),
    ("gradcam", {"layer": "no_such_layer"}, "conv_3_e"),
    ("gradcam", {"layer": "decoded"}, "spatial layer of the encoder"),
    ("occlusion", {"patch": 0}, "patch"),
    ("occlusion", {"patch": 17}, "16x16"),
    ("occlusion", {"stride": 0}, "stride"),
    ("occlusion", {"fill": "grey"}, "fill"),
    ("occlusion", {"batch_size": -1}, "batch_size"),
]


@pytest.mark.parametrize(("method", "options", "words"), BAD_OPTIONS)
def test_bad_option_values_are_named(seed_ae, method, options, words):
    with pytest.raises(ValueError, match=words):
        explain(seed_ae, random_images(1, 16), method, **options)


@pytest.mark.parametrize("method", TARGET_METHODS)
def test_bad_target_is_refused(seed_ae, method):
    with pytest.raises(ValueError, match="reconstruction"):
        explain(seed_ae, random_images(1, 16), method, target="recon")


@pytest.mark.parametrize("method", TARGET_METHODS)
def test_same_maps_for_batch_sizes_1_3_8(seed_ae, method):
    images = random_images(3, 16, seed=7)
    options = dict(FAST[method])
    if method == "occlusion":
        options = {}  # the defaults: patch 2, stride 1, 225 positions per image
    maps = [explain(seed_ae, images, method, batch_size=size, **options) for size in (1, 3, 8)]
    for other in maps[1:]:
        np.testing.assert_allclose(other, maps[0], rtol=1e-5, atol=1e-6 * np.abs(maps[0]).max())


@pytest.mark.parametrize("method", TARGET_METHODS)
def test_top_left_reader_puts_all_mass_in_its_quadrant(quadrant_ae, method):
    images = random_images(3, 16, seed=3)
    options = dict(FAST[method])
    if method == "occlusion":
        # Patches that straddle the quadrant's edge would credit pixels on both sides;
        # aligned 2x2 patches either lie inside it or outside it.
        options = {"patch": 2, "stride": 2}
    maps = np.abs(explain(quadrant_ae, images, method, **options))
    assert maps.sum() > 0
    share = maps[:, :8, :8].sum() / maps.sum()
    assert share >= 0.99


def test_every_method_is_registered():
    assert set(TARGET_METHODS) <= set(METHODS)
    assert "reconstruction_error" in METHODS
    assert list(METHODS) == list(REGISTRY)
    for name, function in METHODS.items():
        assert function.__name__ == name and function.__module__ == f"aevis.methods.{name}"
        parameters = inspect.signature(function).parameters
        assert "target" in parameters
        assert ("reference_codes" in parameters) == REGISTRY[name].takes_target


def test_methods_take_their_defaults_from_the_registry():
    for name, method in REGISTRY.items():
        parameters = inspect.signature(METHODS[name]).parameters
        assert ("seed" in parameters) == method.seeded, name
        for option in method.options:
            assert parameters[option.name].default == option.default, (name, option.name)
            if option.default is not None:  # the docstring states it too
                assert str(option.default) in METHODS[name].__doc__, (name, option.name)
    assert REGISTRY["smoothgrad"].defaults == {"samples": 20, "noise": 0.15}
    assert REGISTRY["integrated_gradients"].defaults == {"steps": 32, "baseline": "grey"}
    assert REGISTRY["occlusion"].defaults == {"patch": None, "stride": None, "fill": 0.5}


def test_unknown_method_is_named():
    with pytest.raises(ValueError) as error:
        explain(None, random_images(1, 16), "lime")
    assert str(error.value) == (
        "Unknown method 'lime'; expected one of gradcam, integrated_gradients, occlusion, "
        "reconstruction_error, saliency, smoothgrad."
    )


# ------------------------------------------------------------------ saliency and smoothgrad


def test_saliency_matches_finite_differences(smooth_ae):
    images = random_images(2, 8, seed=5)
    maps = explain(smooth_ae, images, "saliency")
    # Central differences of t for every pixel and channel, all in one batch per image.
    step = 1e-2
    size = 8 * 8 * 3
    for index in range(2):
        bumps = np.eye(size, dtype=np.float32).reshape(size, 8, 8, 3) * step
        reference = np.repeat(images[index : index + 1], size, axis=0)
        up = _self_target(smooth_ae, images[index : index + 1], reference + bumps)
        down = _self_target(smooth_ae, images[index : index + 1], reference - bumps)
        gradient = ((up - down) / (2 * step)).reshape(8, 8, 3)
        expected = np.abs(gradient).max(axis=-1)
        np.testing.assert_allclose(maps[index], expected, rtol=2e-2, atol=2e-3 * expected.max())


def test_saliency_of_a_linear_code_is_its_weights(linear_ae):
    maps = explain(linear_ae, random_images(2, 4, channels=1), "saliency")
    np.testing.assert_allclose(maps, np.broadcast_to(np.asarray(LINEAR_WEIGHTS), (2, 4, 4)), rtol=1e-6)


def test_smoothgrad_of_a_linear_code_is_its_weights(linear_ae):
    # The gradient of a linear code is the same everywhere, so noise cannot change it.
    maps = explain(linear_ae, random_images(2, 4, channels=1), "smoothgrad", samples=5, noise=0.3)
    np.testing.assert_allclose(maps, np.broadcast_to(np.asarray(LINEAR_WEIGHTS), (2, 4, 4)), rtol=1e-6)


def test_smoothgrad_is_reproducible_and_seeded(seed_ae):
    images = random_images(3, 16, seed=2)
    first = explain(seed_ae, images, "smoothgrad", samples=3)
    np.testing.assert_array_equal(first, explain(seed_ae, images, "smoothgrad", samples=3))
    # An image's noise depends on the image, not on its place in the batch.
    np.testing.assert_allclose(explain(seed_ae, images[::-1], "smoothgrad", samples=3), first[::-1], rtol=1e-5)
    assert not np.allclose(first, explain(seed_ae, images, "smoothgrad", samples=3, seed=1))
    # No noise: plain saliency (which reads ẑ in its own gradient pass, hence float32 rounding).
    np.testing.assert_allclose(
        explain(seed_ae, images, "smoothgrad", samples=2, noise=0.0), explain(seed_ae, images, "saliency"), rtol=1e-5
    )


# ------------------------------------------------------------------ integrated gradients


@pytest.mark.parametrize("baseline", ["grey", "black", "blurred", "mean"])
def test_integrated_gradients_are_complete(smooth_ae, baseline):
    images = random_images(3, 8, seed=4)
    maps = explain(smooth_ae, images, "integrated_gradients", steps=32, baseline=baseline)
    baselines = make_baseline(images, baseline)
    change = _self_target(smooth_ae, images, images) - _self_target(smooth_ae, images, baselines)
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), change, rtol=1e-2)


def test_integrated_gradients_are_complete_through_max_pooling(seed_ae):
    # Max-pooling makes the gradient jump along the path; from black the path is long
    # enough for 32 midpoints to stay within 1 %.
    images = random_images(3, 16, seed=4)
    maps = explain(seed_ae, images, "integrated_gradients", steps=32, baseline="black")
    change = _self_target(seed_ae, images, images) - _self_target(seed_ae, images, np.zeros_like(images))
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), change, rtol=1e-2)


def test_integrated_gradients_of_a_linear_code(linear_ae):
    images = random_images(2, 4, channels=1)
    maps = explain(linear_ae, images, "integrated_gradients", steps=3, baseline="black")
    np.testing.assert_allclose(maps, images[..., 0] * np.asarray(LINEAR_WEIGHTS), rtol=1e-6)
    maps = explain(linear_ae, images, "integrated_gradients", steps=3)  # from grey, the default
    np.testing.assert_allclose(maps, (images[..., 0] - 0.5) * np.asarray(LINEAR_WEIGHTS), rtol=1e-5, atol=1e-7)


def test_baselines():
    images = random_images(2, 16)
    assert (make_baseline(images, "grey") == 0.5).all()
    mean = make_baseline(images, "mean")
    np.testing.assert_allclose(mean[:, 5, 7], images.mean(axis=(1, 2)), rtol=1e-6)
    blurred = make_baseline(images, "blurred")
    assert blurred.std() < images.std() / 2
    np.testing.assert_allclose(blurred.mean(axis=(1, 2)), images.mean(axis=(1, 2)), atol=0.02)


# ------------------------------------------------------------------ occlusion


def test_occlusion_by_hand(linear_ae):
    # x = 1 everywhere, fill 0: covering a patch lowers t = Σ w·x by the sum of w under it.
    # 2x2 patches at stride 1 start at rows and columns 0, 1, 2; the drops are
    #   [[10, 6, 0], [7, 4, 0], [0, 0, 0]]   (1+2+3+4, 2+4, 3+4, 4; the rest covers zeros)
    # and each pixel averages the drops of the patches over it, e.g. (1, 1): (10+6+7+4)/4.
    expected = np.array(
        [
            [10.0, 8.0, 3.0, 0.0],
            [8.5, 6.75, 2.5, 0.0],
            [3.5, 2.75, 1.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    images = np.ones((1, 4, 4, 1), dtype=np.float32)
    maps = explain(linear_ae, images, "occlusion", patch=2, stride=1, fill=0.0)
    np.testing.assert_allclose(maps[0], expected, rtol=1e-6)
    # Aligned 2x2 patches: each pixel gets its own patch's drop.
    maps = explain(linear_ae, images, "occlusion", patch=2, stride=2, fill=0.0)
    np.testing.assert_allclose(maps[0], [[10, 10, 0, 0], [10, 10, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], rtol=1e-6)
    # Defaults on 4x4: patch ⌈4/8⌉ = 1, so a pixel's drop is w·(1 − 0.5).
    np.testing.assert_allclose(explain(linear_ae, images, "occlusion")[0], np.asarray(LINEAR_WEIGHTS) * 0.5, rtol=1e-6)


def test_occlusion_geometry():
    # Defaults: patch ⌈H/8⌉, stride ⌈patch/2⌉, fill 0.5; given values are kept.
    assert occlusion_geometry(64) == (8, 4, 0.5)
    assert occlusion_geometry(28) == (4, 2, 0.5)
    assert occlusion_geometry(16) == (2, 1, 0.5)
    assert occlusion_geometry(4) == (1, 1, 0.5)
    assert occlusion_geometry(64, patch=5) == (5, 3, 0.5)
    assert occlusion_geometry(64, patch=5, stride=2, fill=0) == (5, 2, 0.0)
    assert occlusion_geometry(64, stride=3) == (8, 3, 0.5)
    for options, words in [({"patch": 0}, "'patch'"), ({"stride": 1.5}, "'stride'"), ({"fill": "grey"}, "'fill'")]:
        with pytest.raises(ValueError, match=words):
            occlusion_geometry(64, **options)


def test_occlusion_covers_the_far_edge(linear_ae):
    # Patch 3 at stride 2 on 4 pixels starts at 0 and, flush with the edge, at 1.
    images = np.ones((1, 4, 4, 1), dtype=np.float32)
    maps = explain(linear_ae, images, "occlusion", patch=3, stride=2, fill=0.0)
    # Drops: start (0,0): 10, (0,1): 6, (1,0): 7, (1,1): 4; every pixel in rows/cols 1-2 is under all four.
    assert maps[0, 3, 3] == pytest.approx(4.0)
    assert maps[0, 1, 1] == pytest.approx((10 + 6 + 7 + 4) / 4)
    assert maps[0, 0, 0] == pytest.approx(10.0)


# ------------------------------------------------------------------ grad-cam


def test_gradcam_by_hand(quadrant_ae):
    # Recompute ReLU(Σ α_k A_k) from the layer's activation and finite differences of t in A.
    import keras

    images = random_images(1, 16, seed=9)
    maps = explain(quadrant_ae, images, "gradcam")
    model = quadrant_ae.model
    activation = keras.Model(model.inputs[0], model.get_layer("last_conv").output)(images).numpy()[0]
    head = keras.Model(model.get_layer("last_conv").output, model.get_layer("encoded").output)
    code = quadrant_ae.encode(images)[0].astype(np.float64)
    unit = code / np.linalg.norm(code)
    # t is linear in A after last_conv (Flatten, then a linear Dense), so one difference per
    # channel is exact: the spatial mean of ∂t/∂A_k is (t(A + δ/hw on channel k) − t(A)) / δ.
    delta = 1.0
    base = head(activation[None]).numpy()[0] @ unit
    alphas = []
    for channel in range(4):
        bumped = activation.copy()
        bumped[..., channel] += delta / (16 * 16)
        alphas.append((head(bumped[None]).numpy()[0] @ unit - base) / delta)
    expected = np.maximum(np.tensordot(activation, np.asarray(alphas), axes=([2], [0])), 0)
    np.testing.assert_allclose(maps[0], expected, rtol=1e-3, atol=1e-5 * expected.max())


def test_gradcam_default_layer_is_the_last_encoder_conv(seed_ae):
    images = random_images(2, 16)
    np.testing.assert_array_equal(
        explain(seed_ae, images, "gradcam"), explain(seed_ae, images, "gradcam", layer="conv_3_e")
    )
    assert not np.allclose(explain(seed_ae, images, "gradcam", layer="conv_1_e"), explain(seed_ae, images, "gradcam"))


def test_gradcam_refuses_a_layer_with_a_way_around_it():
    from aevis.model import wrap_autoencoder
    from tests.models import skip_around

    ae = wrap_autoencoder(skip_around())
    images = random_images(1, 8)
    with pytest.raises(ValueError, match="'b'.*does not depend on it alone"):
        explain(ae, images, "gradcam", layer="b")
    # The bottleneck itself is a convolution here: its own Grad-CAM needs no head.
    np.testing.assert_array_equal(explain(ae, images, "gradcam"), explain(ae, images, "gradcam", layer="encoded"))
    assert explain(ae, images, "gradcam").sum() > 0


def test_occluded_copies_per_batch_shrink_as_the_code_grows_and_the_maps_stay(seed_ae, monkeypatch):
    from aevis.methods import occlusion as occlusion_module

    images = random_images(2, seed_ae.input_spec.height)
    sizes = []
    chunks = occlusion_module.item_chunks

    def recorded(count, per_image, batch_size):
        sizes.append(batch_size)
        return chunks(count, per_image, batch_size)

    monkeypatch.setattr(occlusion_module, "item_chunks", recorded)
    roomy = explain(seed_ae, images, "occlusion", batch_size=4)
    # Room for one copy's code arrays only: the batch falls back to batch_size copies.
    monkeypatch.setattr(occlusion_module, "CALL_BYTES", occlusion_module._COPY_CODES * 4 * seed_ae.code_size)
    tight = explain(seed_ae, images, "occlusion", batch_size=4)
    assert sizes[0] > 4 and sizes[1] == 4
    np.testing.assert_allclose(tight, roomy, rtol=1e-5, atol=1e-6)

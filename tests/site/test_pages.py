"""Page models of a real tiny build, checked against the gallery's own numbers, the model
itself, the data files the build wrote, and the files in the built site."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import PurePosixPath

import keras
import numpy as np
import pytest

from aevis.data.imageset import Reject
from aevis.faithfulness.randomization import encoder_layers_top_down
from aevis.latent.neighbours import unit_codes
from aevis.network.activations import conv_layers
from aevis.site import pages, urls
from aevis.site.html import _environment
from aevis.site.words import METHOD_WORDS

SITE_FILES = (".html", ".png", ".gif", ".js", ".css", ".svg", ".json", ".npy", ".npz")


@pytest.fixture(scope="module")
def built(tiny_site):
    """(site folder, gallery, image pages) of the tiny build."""
    config, gallery = tiny_site
    return config.out, gallery, pages.gather_pages(gallery)


def _index(gallery) -> dict[str, int]:
    return {name: index for index, name in enumerate(gallery.imageset.names)}


def test_image_pages_follow_the_manifest_with_the_gallerys_neighbours_in_order(built):
    site, gallery, image_pages = built
    manifest = json.loads((site / urls.MANIFEST).read_text())
    assert len(image_pages) == int(gallery.with_page.sum()) == len(gallery) == 12
    assert [page.slug for page in image_pages] == [record["slug"] for record in manifest["images"]]
    unit = unit_codes(gallery.codes, gallery.code_centre)
    for page, index, record in zip(image_pages, gallery.paged, manifest["images"]):
        assert (page.name, page.source, page.href) == (record["name"], record["source"], record["page"])
        assert page.label == record["label"] == gallery.imageset.labels[index]
        others = gallery.neighbour_indices[index]
        assert [link.name for link in page.neighbours] == [gallery.imageset.names[other] for other in others]
        assert [link.similarity for link in page.neighbours] == [
            float(s) for s in gallery.neighbour_similarities[index]
        ]
        # The similarities are the cosines of the codes less their mean, most similar first.
        np.testing.assert_allclose([link.similarity for link in page.neighbours], unit[others] @ unit[index], rtol=1e-5)
        assert [link.similarity for link in page.neighbours] == sorted(
            (link.similarity for link in page.neighbours), reverse=True
        )
        listed_by = [other for other in range(len(gallery)) if index in gallery.neighbour_indices[other]]
        assert [link.name for link in page.listed_by] == [gallery.imageset.names[other] for other in listed_by]
        with np.load(site / urls.maps_file(page.slug)) as maps:
            assert page.error_mean == pytest.approx(float(maps["reconstruction_error"].mean()), rel=1e-6)
        assert page.flags == ()


def test_image_pages_chain_and_show_every_method_with_its_own_legend(built):
    _, gallery, image_pages = built
    names = [page.name for page in image_pages]
    for position, page in enumerate(image_pages):
        assert (page.previous.name if page.previous else None) == (names[position - 1] if position else None)
        assert (page.next.name if page.next else None) == (names[position + 1] if position + 1 < len(names) else None)
        methods = gallery.explanations.methods
        assert page.ranked  # the checks ran, so the most faithful method comes first
        assert [heatmap.words for heatmap in page.heatmaps] == [
            METHOD_WORDS[method] for method in _by_faithfulness(gallery)
        ]
        signed = {heatmap.words.title for heatmap in page.heatmaps if heatmap.legend_png == urls.overlay_legend(True)}
        assert signed == {"Integrated Gradients", "Occlusion"}  # the two methods with signed maps
        assert len({heatmap.png for heatmap in page.heatmaps}) == len(methods)
        assert page.pair_title == "Grad-CAM"
        assert all(link.pair_here and link.pair_there for link in page.neighbours)
        inside = page.inside
        assert [(grid.layer, grid.part, grid.channels) for grid in inside.grids] == [
            (layer.name, layer.part, int(gallery.ae.model.get_layer(layer.name).output.shape[-1]))
            for layer in conv_layers(gallery.ae)
        ]
        assert inside.morph_with == page.neighbours[0]  # the morph runs to the nearest neighbour


def _by_faithfulness(gallery) -> list[str]:
    """The build's methods, fewest failed checks first, then by deletion area over random's."""
    figures = gallery.explanations.faithfulness

    def failed(row) -> int:
        misses = [row["deletion_auc"] >= row["random_deletion_auc"], row["randomization_spearman"] >= 0.5]
        if row.get("object_share") is not None:
            misses.append(row["object_share"] < 2 * row["mask_share"])
        return sum(misses)

    return sorted(
        gallery.explanations.methods,
        key=lambda method: (
            failed(figures[method]),
            figures[method]["deletion_auc"] / figures[method]["random_deletion_auc"],
        ),
    )


def test_a_method_that_failed_a_check_comes_last_and_says_so_in_words(built):
    _, gallery, _ = built
    figures = {
        method: {
            "deletion_auc": 0.2,
            "random_deletion_auc": 0.4,
            "randomization_spearman": 0.1,
            "object_share": 0.6,
            "mask_share": 0.2,
        }
        for method in gallery.explanations.methods
    }
    figures["saliency"]["deletion_auc"] = 0.1  # the most faithful: half the area of the others
    figures["integrated_gradients"].update(deletion_auc=0.45, randomization_spearman=0.91)  # fails two checks
    figures["gradcam"]["object_share"] = 0.3  # fails one: 0.3 is less than twice the object's 0.2
    figures["occlusion"]["deletion_auc"] = float("nan")  # undefined: fails nothing, ranks after the defined
    checked = dataclasses.replace(gallery, explanations=dataclasses.replace(gallery.explanations, faithfulness=figures))
    page = pages.gather_pages(checked)[0]
    assert [heatmap.words.title for heatmap in page.heatmaps] == [
        "Saliency",
        "SmoothGrad",
        "Occlusion",
        "Grad-CAM",
        "Integrated Gradients",
    ]
    failures = {heatmap.words.title: heatmap.failures for heatmap in page.heatmaps}
    assert failures["Saliency"] == failures["SmoothGrad"] == failures["Occlusion"] == ()
    assert failures["Grad-CAM"] == (
        "Take with care: it puts 30% of its weight on the object, which covers 20% of the image; a map on "
        "target puts at least 2 times that share there.",
    )
    assert failures["Integrated Gradients"] == (
        "Not shown to be faithful here: greying out the pixels this map ranks highest changed the code no faster "
        "than greying out the same pattern of pixels at a random place (deletion area 0.450 against 0.400).",
        "Take with care: this map looks much the same when the network's learned weights are replaced by random "
        "ones (rank correlation 0.91, aim below 0.5), so it shows more of the image than of what the network "
        "learned.",
    )
    summary = pages.summarise(checked, "t")
    html = _environment().get_template("image.html").render(root="../", site=summary, current=page.href, page=page)
    assert "the most faithful first" in html
    assert html.index("Saliency heat-map") < html.index("Integrated Gradients heat-map")
    assert html.count('<span class="unfaithful">') == 3  # the heat-maps' failures (a failed "Taught by" says so apart)
    unchecked = dataclasses.replace(gallery, explanations=dataclasses.replace(gallery.explanations, faithfulness={}))
    plain = pages.gather_pages(unchecked)[0]
    assert not plain.ranked and [heatmap.words.title for heatmap in plain.heatmaps] == [
        METHOD_WORDS[method].title for method in gallery.explanations.methods
    ]


def test_model_page_lists_every_layer_with_its_shape_and_marks_the_bottleneck(built):
    _, gallery, _ = built
    model = gallery.ae.model
    page = pages.gather_model(gallery)
    assert [row.name for row in page.layers] == [layer.name for layer in model.layers]
    for row, layer in zip(page.layers, model.layers):
        shape = tuple(layer.output.shape[1:])
        assert row.output_shape == " × ".join(map(str, shape)), row.name
        assert (row.kind, row.parameters) == (type(layer).__name__, layer.count_params())
    assert [row.name for row in page.layers if row.is_bottleneck] == ["encoded"] == [gallery.ae.bottleneck]
    assert page.parameters == model.count_params() == sum(row.parameters for row in page.layers)
    assert page.code_size == gallery.codes.shape[1] == math.prod(model.get_layer("encoded").output.shape[1:])
    assert page.input_shape == "16 × 16 × 3"
    assert page.final_loss == gallery.model_info.losses[-1] and page.sha256 == gallery.model_info.sha256


def _reference_maps(gallery, names: list[str]) -> dict[str, np.ndarray]:
    """Each named layer's output for every image, straight from Keras."""
    model = gallery.ae.model
    reader = keras.Model(model.inputs[0], [model.get_layer(name).output for name in names])
    outputs = reader(gallery.ae.input_spec.to_model(gallery.imageset.images[:]), training=False)
    return {name: keras.ops.convert_to_numpy(output) for name, output in zip(names, outputs)}


def test_channel_galleries_show_each_channels_strongest_images_and_where_it_fires(built):
    site, gallery, _ = built
    layer_pages = pages.gather_layers(gallery)
    expected = [layer.name for layer in conv_layers(gallery.ae) if layer.part == "encoder"] + ["encoded"]
    assert [page.name for page in layer_pages] == expected
    assert [page.part for page in layer_pages] == ["encoder"] * 4 + ["bottleneck"]
    maps = _reference_maps(gallery, expected)
    index, size = _index(gallery), gallery.ae.input_spec.height
    features = {int(channel) for channel in gallery.insides.feature_channels}
    for page in layer_pages:
        values = maps[page.name]
        means = values.mean(axis=(1, 2))
        assert page.map_shape == f"{values.shape[1]} × {values.shape[2]}"
        assert [row.channel for row in page.rows] == list(range(values.shape[-1]))
        scale = size // values.shape[1]  # input pixels per map cell
        for row in page.rows:
            shown = [index[tile.link.name] for tile in row.tiles]
            assert len(shown) == 8 and len(set(shown)) == 8
            np.testing.assert_allclose(
                [tile.value for tile in row.tiles], means[shown, row.channel], rtol=1e-4, atol=1e-6
            )
            # The top 8: none left out is stronger than the weakest shown (up to float noise).
            left_out = np.delete(means[:, row.channel], shown)
            assert left_out.max() <= means[shown[-1], row.channel] + 1e-5, (page.name, row.channel)
            for tile, image in zip(row.tiles, shown):
                left, top, width, height = (round(value * size / 100) for value in tile.box)
                cells = values[
                    image,
                    top // scale : -(-(top + height) // scale),
                    left // scale : -(-(left + width) // scale),
                    row.channel,
                ]
                # The outlined square covers the cell where the channel fires hardest in that image.
                assert cells.max() >= values[image, ..., row.channel].max() - 1e-5, (page.name, row.channel, image)
            has_feature = page.part == "bottleneck" and row.channel in features
            assert (row.feature_png is not None) == has_feature
            if has_feature:
                assert (site / row.feature_png).is_file()


def test_reading_page_shows_the_builds_faithfulness_figures_and_cascade(built):
    site, gallery, image_pages = built
    explanations = gallery.explanations
    guide = pages.gather_reading(gallery, image_pages, sample=12)
    manifest = json.loads((site / urls.MANIFEST).read_text())["faithfulness"]
    assert list(explanations.faithfulness) == list(manifest) == list(explanations.methods)
    for row, (method, figures) in zip(guide.rows, explanations.faithfulness.items(), strict=True):
        assert row.words == METHOD_WORDS[method]
        shown = {name: getattr(row, name) for name in figures}
        assert shown == figures
        assert shown == pytest.approx(manifest[method], rel=1e-6)
        assert row.deletion_ok == (figures["deletion_auc"] < figures["random_deletion_auc"])
    assert guide.checks == 3  # deletion, randomization and object share: the shapes have masks
    assert guide.methods == tuple(METHOD_WORDS[method] for method in explanations.methods)
    example = gallery.slugs[explanations.cascade_image]
    assert guide.example.slug == example == image_pages[0].slug
    trained, *steps = guide.cascade
    assert trained.png == urls.media(example, "saliency") and trained.spearman is None
    layers = encoder_layers_top_down(gallery.ae)  # re-initialised from the code down
    assert [tile.label for tile in steps] == [f"randomised down to {name}" for name in layers]
    assert [tile.spearman for tile in steps] == [step.spearman for step in explanations.cascade]
    assert guide.sample == 12 and guide.cascade_method == METHOD_WORDS["saliency"]


def test_report_lists_skipped_files_flagged_images_warnings_and_parameters(built):
    site, gallery, _ = built
    assert pages.gather_report(gallery).rejected == () and pages.gather_report(gallery).flagged == ()
    rejects = [Reject("holiday/broken.jpg", "truncated JPEG"), Reject("notes.txt", "not an image")]
    troubled = dataclasses.replace(
        gallery,
        imageset=dataclasses.replace(gallery.imageset, rejected=rejects),
        flags={3: ("NaN in its code",)},
        warnings=["this model does not rebuild these images well"],
    )
    report = pages.gather_report(troubled)
    assert report.rejected == tuple(rejects)
    [flagged] = report.flagged
    assert (flagged.link.name, flagged.source, flagged.problems) == (
        gallery.imageset.names[3],
        gallery.imageset.sources[3],
        ("NaN in its code",),
    )
    assert (site / flagged.link.href).is_file()
    assert report.warnings == ("this model does not rebuild these images well",)
    settings = dict(report.parameters)  # a seed trained on built-in shapes: its training and the set apply
    assert settings["epochs"] == str(gallery.parameters["epochs"]) and settings["dataset"] == "shapes"
    assert "model" not in settings and "compare" not in settings  # not given
    summary = pages.summarise(troubled, "t")
    assert (summary.images, summary.pages, summary.rejected, summary.flagged) == (12, 12, 2, 1)
    html = _environment().get_template("report.html").render(root="", site=summary, current=urls.REPORT, report=report)
    for reject in rejects:
        assert f"<code><bdi>{reject.path}</bdi></code></td><td>{reject.reason}</td>" in html


def test_summary_counts_the_gallery(built):
    _, gallery, _ = built
    summary = pages.summarise(gallery, "What the autoencoder sees")
    assert (summary.images, summary.pages, summary.rejected, summary.flagged) == (12, 12, 0, 0)
    assert summary.labels == len(set(gallery.imageset.labels)) == 4  # circle, square, triangle, cross
    assert (summary.code_size, summary.input_shape) == (gallery.codes.shape[1], "16 × 16 × 3")


def test_map_data_is_the_gallerys_places_clusters_errors_and_neighbours(built):
    site, gallery, _ = built
    data = pages.gather_map(gallery)
    assert data.names == tuple(gallery.imageset.names) and data.slugs == tuple(gallery.slugs)
    assert data.hrefs == tuple(urls.image_page(slug) for slug in gallery.slugs)
    np.testing.assert_array_equal(data.positions, gallery.positions)
    np.testing.assert_array_equal(data.neighbours, gallery.neighbour_indices)
    np.testing.assert_array_equal(data.clusters, gallery.insides.clusters)
    assert data.cluster_count == gallery.insides.cluster_count
    for index in gallery.paged:  # only paged images have a maps file
        with np.load(site / urls.maps_file(gallery.slugs[index])) as maps:
            assert data.errors[index] == pytest.approx(float(maps["reconstruction_error"].mean()), rel=1e-6)
    assert data.labels == tuple(gallery.imageset.labels)
    assert data.quality.trustworthiness == gallery.insides.map_quality.trustworthiness
    assert all((site / data.preview.format(slug=slug)).is_file() for slug in gallery.slugs)


def _links(model, field: str = "") -> list[tuple[str, str]]:
    """(field, path) of every site file a page model points to, through nested dataclasses."""
    if dataclasses.is_dataclass(model) and not isinstance(model, type):
        return [link for item in dataclasses.fields(model) for link in _links(getattr(model, item.name), item.name)]
    if isinstance(model, (tuple, list)):
        return [link for item in model for link in _links(item, field)]
    if isinstance(model, str) and PurePosixPath(model).suffix in SITE_FILES and "{" not in model:
        return [(field, model)]  # (a pattern, such as the map's preview, is checked by the map's test)
    return []


def test_every_link_a_page_model_holds_is_a_file_of_the_built_site(built):
    site, gallery, image_pages = built
    models = {
        "image pages": image_pages,
        "layer pages": pages.gather_layers(gallery),
        "model": pages.gather_model(gallery),
        "reading": pages.gather_reading(gallery, image_pages, 12),
        "map": pages.gather_map(gallery),
    }  # (the report links only flagged images: its test checks that link)
    kinds = set()
    for page, model in models.items():
        links = _links(model)
        assert links, f"the {page} model holds no links"
        for field, path in links:
            assert not path.startswith("/") and ".." not in PurePosixPath(path).parts, (page, field, path)
            assert (site / path).is_file(), f"{page}: {field} -> {path} is not in the site"
            kinds.add(PurePosixPath(path).suffix)
    assert {".html", ".png", ".gif", ".js"} <= kinds

"""The data contract: the manifest, the codes and one maps file per image, in ``data/``
(:data:`~aevis.site.urls.MANIFEST`, :data:`~aevis.site.urls.CODES`, :func:`~aevis.site.urls.maps_file`).

Everything a script needs to reuse a gallery's numbers, in manifest order:

* ``manifest.json``: the software versions, model, build parameters and one record per image;
* ``codes.npy``: float32 (N, D), row i is image i's flattened bottleneck code;
* ``maps/<slug>.npz``: one float32 (H, W) array per visualization, at the model's input size.
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np

from aevis import __version__
from aevis.gallery import ExplainedChunk, Gallery
from aevis.site import urls

MANIFEST_VERSION = 1

SOFTWARE = {
    "python": "Python",
    "tensorflow": "TensorFlow",
    "keras": "Keras",
    "numpy": "NumPy",
    "scikit-learn": "scikit-learn",
    "opentsne": "openTSNE",
    "aevis": "aevis",
}
"""The software whose versions made the numbers: the manifest's key, the name shown."""


@cache
def versions() -> dict[str, str | None]:
    """The version of each package in :data:`SOFTWARE` as installed (None where it is not)."""
    found = {"python": platform.python_version(), "aevis": __version__}
    for name in SOFTWARE.keys() - found.keys():
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return {name: found[name] for name in SOFTWARE}


def built_at(gallery: Gallery) -> str:
    """The build time recorded: the one the build was given (``SOURCE_DATE_EPOCH``), else now."""
    given = gallery.parameters.get("build_time")
    return given or datetime.now(UTC).isoformat(timespec="seconds")


def recorded_build_time(site: Path) -> datetime:
    """The ``built_at`` time of the site's manifest."""
    return datetime.fromisoformat(json.loads((site / urls.MANIFEST).read_text())["built_at"])


def manifest(gallery: Gallery) -> dict:
    """The manifest as JSON-ready data.

    ``built_at`` is the only field that varies between builds of the same inputs, and only when
    the build was given no time (``BuildConfig.build_time``, from ``SOURCE_DATE_EPOCH``).
    """
    spec = gallery.ae.input_spec
    explanations = gallery.explanations
    imageset = gallery.imageset
    records = []
    for index, slug in enumerate(gallery.slugs):
        records.append({
            "name": imageset.names[index],
            "source": imageset.sources[index],
            "slug": slug,
            "page": urls.image_page(slug) if gallery.with_page[index] else None,
            "label": imageset.labels[index] if imageset.labels else None,
            "x": round(float(gallery.positions[index, 0]), 6),
            "y": round(float(gallery.positions[index, 1]), 6),
            "flags": list(gallery.flags.get(index, ())),
            "neighbours": [
                {"slug": gallery.slugs[other], "similarity": round(float(similarity), 6)}
                for other, similarity in zip(
                    gallery.neighbour_indices[index], gallery.neighbour_similarities[index]
                )
            ],
        })
    return {
        "manifest_version": MANIFEST_VERSION,
        "aevis_version": __version__,
        "built_at": built_at(gallery),
        "versions": versions(),
        "model": {
            "source": gallery.model_info.source,
            "sha256": gallery.model_info.sha256,
            "bottleneck": gallery.ae.bottleneck,
            "bottleneck_reason": gallery.ae.bottleneck_reason,
            "code_size": int(gallery.codes.shape[1]),
            "input": {"height": spec.height, "width": spec.width, "channels": spec.channels,
                      "scale": spec.scales.input},
            "output_scale": spec.scales.output,
            "scales_reason": gallery.ae.scales_reason,
        },
        "parameters": gallery.parameters,
        "seed": gallery.parameters["seed"],
        "counts": {
            "images": len(gallery),
            "pages": int(gallery.with_page.sum()),
            "rejected": len(imageset.rejected),
            "flagged": len(gallery.flags),
        },
        "maps": map_names(gallery),
        "target": explanations.target if explanations else None,
        "method_options": explanations.options if explanations else {},
        "pair_method": explanations.pair_method if explanations else None,
        "faithfulness": _json_safe(explanations.faithfulness) if explanations else {},
        "map_quality": gallery.insides.map_quality if gallery.insides else None,
        "files": {"codes": urls.in_data(urls.CODES), "maps": urls.in_data(urls.MAPS_PATTERN)},
        "images": records,
        "rejected": [{"path": reject.path, "reason": reject.reason} for reject in imageset.rejected],
        "warnings": gallery.warnings,
    }


def _json_safe(figures: dict) -> dict:
    """NaN (an undefined figure) becomes null: JSON has no NaN."""
    return {
        method: {name: (None if value != value else value) for name, value in row.items()}
        for method, row in figures.items()
    }


def map_names(gallery: Gallery) -> list[str]:
    """The arrays a paged image's npz file holds (others hold ``reconstruction_error`` only)."""
    names = sorted(gallery.maps)
    explanations = gallery.explanations
    if explanations:
        names += list(explanations.methods)
        if explanations.pair_method is not None:
            names.append(pair_name(explanations.pair_method))
    return names


def pair_name(method: str) -> str:
    """The npz name of the pair map against the nearest neighbour's code."""
    return f"{method}__neighbour"


def maps_of(gallery: Gallery, index: int, chunk: ExplainedChunk | None = None, row: int | None = None) -> dict[str, np.ndarray]:
    """Every map of image ``index``: row ``row`` of ``chunk`` holds its heat-maps, if it has a page."""
    arrays = {name: values[index] for name, values in gallery.maps.items()}
    explanations = gallery.explanations
    if explanations and chunk is not None:
        arrays.update({method: maps[row] for method, maps in chunk.maps.items()})
        if chunk.pair_maps is not None:
            # Against the nearest neighbour's code: what makes the image similar to it.
            arrays[pair_name(explanations.pair_method)] = chunk.pair_maps[row, 0, 0]
    return {name: np.asarray(values, np.float32) for name, values in arrays.items()}


def write_maps(site: Path, slug: str, arrays: dict[str, np.ndarray]) -> None:
    """Write one image's maps file."""
    path = site / urls.maps_file(slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def write_data(gallery: Gallery, site: Path) -> None:
    """Write the manifest and the codes (the maps are written as they are made, :func:`write_maps`)."""
    (site / urls.DATA).mkdir(parents=True, exist_ok=True)
    (site / urls.MANIFEST).write_text(json.dumps(manifest(gallery), indent=1, ensure_ascii=False))
    np.save(site / urls.CODES, np.ascontiguousarray(gallery.codes, np.float32))

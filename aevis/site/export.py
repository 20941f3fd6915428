"""The data contract: the manifest, the codes and one maps file per paged image, in ``data/``
(:data:`~aevis.site.urls.MANIFEST`, :data:`~aevis.site.urls.CODES`, :func:`~aevis.site.urls.maps_file`).

Everything a script needs to reuse a gallery's numbers, in manifest order:

* ``manifest.json``: the software versions, model, build parameters and one record per image
  (with ``--compare``, each record's ``neighbour_overlap`` and the top-level ``compare`` block);
* ``codes.npy``: float32 (N, D), row i is image i's flattened bottleneck code; codes of more
  than :data:`CODES_IN_SITE_LIMIT` bytes are written beside the site instead
  (:func:`codes_beside`), so the site stays small enough to publish;
* ``taught_by.npz``, where the model was trained here: ``rows`` int64 (S,), the manifest
  indices of the paged images the label-share check ran on, and ``scores`` float32 (S, N), each
  one's TracIn score of every image (its own included; the check leaves it out);
* ``maps/<slug>.npz``, for each image with a page: one float32 (H, W) array per visualization,
  at the model's input size. (An image without a page has none: at 100,000 images the error
  maps alone would take about a gigabyte; :func:`aevis.explain` remakes any image's maps.)
"""

from __future__ import annotations

import dataclasses
import json
import platform
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np

from aevis import __version__
from aevis._utils.codes import write_npy
from aevis.gallery import ExplainedChunk, Gallery
from aevis.latent.cells import code_grid, neighbour_cells, recorded_cells
from aevis.latent.neighbours import pair_similarities
from aevis.latent.strangeness import recorded_error
from aevis.memory import rows_within
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


def manifest(gallery: Gallery, records: list | None = None) -> dict:
    """The manifest as JSON-ready data (with ``records`` as its ``images``, when given, instead of
    :func:`image_records`).

    ``built_at`` is the only field that varies between builds of the same inputs, and only when
    the build was given no time (``BuildConfig.build_time``, from ``SOURCE_DATE_EPOCH``).
    """
    spec = gallery.ae.input_spec
    explanations = gallery.explanations
    imageset = gallery.imageset
    comparison = gallery.comparison
    grid = code_grid(gallery.ae)
    duplicates = gallery.duplicates
    records = list(image_records(gallery)) if records is None else records
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
            "code_grid": list(grid) if grid is not None else None,
            "input": {
                "height": spec.height,
                "width": spec.width,
                "channels": spec.channels,
                "scale": spec.scales.input,
            },
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
        "cell_faithfulness": _cell_figures(explanations),
        "map_quality": dataclasses.asdict(gallery.insides.map_quality) if gallery.insides else None,
        "neighbour_recall": gallery.neighbour_recall,
        "duplicate_rule": duplicates.rule.as_record(),
        "compare": _compare_record(comparison) if comparison is not None else None,
        "taught_by": taught_record(gallery),
        "files": {
            "codes": urls.in_data(urls.CODES) if codes_in_site(gallery.codes) else None,
            "maps": urls.in_data(urls.MAPS_PATTERN),
            "taught_by": urls.in_data(urls.TAUGHT_BY) if gallery.taught is not None else None,
        },
        "images": records,
        "rejected": [{"path": reject.path, "reason": reject.reason} for reject in imageset.rejected],
        "warnings": gallery.warnings,
    }


def image_records(gallery: Gallery) -> Iterator[dict]:
    """The manifest's record of each image, in manifest order, one at a time."""
    imageset = gallery.imageset
    trust = gallery.insides.map_trust if gallery.insides else None
    comparison = gallery.comparison
    grid = code_grid(gallery.ae)
    cells = _cells_by_image(gallery, grid) if grid is not None else None
    errors, (_, error_ranks), duplicates = gallery.errors, gallery.error_ranking, gallery.duplicates
    raw = _raw_similarities(gallery)
    for index, slug in enumerate(gallery.slugs):
        record = {
            "name": imageset.names[index],
            "source": imageset.sources[index],
            "slug": slug,
            "page": urls.image_page(slug) if gallery.with_page[index] else None,
            "label": imageset.labels[index] if imageset.labels else None,
            "x": round(float(gallery.positions[index, 0]), 6),
            "y": round(float(gallery.positions[index, 1]), 6),
            "map_trust": _share(trust[index]) if trust is not None else None,
            "flags": list(gallery.flags.get(index, ())),
            "neighbours": [
                {
                    "slug": gallery.slugs[other],
                    "similarity": round(float(similarity), 6),
                    "similarity_raw": round(float(uncentred), 6),
                }
                for other, similarity, uncentred in zip(
                    gallery.neighbour_indices[index], gallery.neighbour_similarities[index], next(raw)
                )
            ],
            "reconstruction_error": recorded_error(errors[index]),
            "error_rank": int(error_ranks[index]),
            "duplicates": [
                {
                    "slug": gallery.slugs[other],
                    "similarity": round(similarity, 6),
                    "similarity_raw": round(float(pair_similarities(gallery.codes, [index], [other])[0]), 6),
                }
                for other, similarity in duplicates.of_image[index]
            ],
        }
        if cells is not None and gallery.with_page[index]:
            # Each neighbour's similarity, cell by cell (aevis.latent.cells): for paged images
            # only, which would otherwise be most of a large manifest; codes.npy gives the rest.
            for neighbour, shares in zip(record["neighbours"], next(cells), strict=True):
                neighbour["cells"] = recorded_cells(shares, neighbour["similarity"])
        if gallery.with_page[index]:
            mix = gallery.made_of[index]
            record["made_of"] = [
                {"slug": gallery.slugs[other], "weight": round(float(weight), 6)}
                for other, weight in zip(mix.indices, mix.weights)
            ]
            record["made_of_residual"] = round(mix.residual, 6) if np.isfinite(mix.residual) else None
            if gallery.taught is not None:
                proponents, opponents = gallery.taught.of(index)
                record["taught_by"] = [
                    {"slug": gallery.slugs[other], "score": _score(score)} for other, score in proponents
                ]
                record["taught_against"] = [
                    {"slug": gallery.slugs[other], "score": _score(score)} for other, score in opponents
                ]
        if comparison is not None:
            record["neighbour_overlap"] = round(float(comparison.overlap[index]), 6)
        yield record


def _score(value: float) -> float:
    """A TracIn score for JSON: six significant digits (scores are small: a learning rate times
    a product of gradients)."""
    return float(f"{value:.6g}")


def taught_record(gallery: Gallery) -> dict | None:
    """How "Taught by" was computed, and its label-share check where the images have labels;
    None where the model was not trained here."""
    taught = gallery.taught
    if taught is None:
        return None
    shares = gallery.taught_label_shares
    return {
        "method": "TracIn over training checkpoints, label-free (reconstruction loss, encoder weights)",
        "checkpoint_epochs": [int(epoch) for epoch in taught.epochs],
        "learning_rates": [float(rate) for rate in taught.learning_rates],
        "projection_dimensions": taught.dimensions,
        "projection_error": taught.error if np.isfinite(taught.error) else None,
        "label_share_images": len(taught.sample) if shares is not None else 0,
        "label_share": None
        if shares is None
        else [
            {
                "fraction": share.fraction,
                "count": share.count,
                "top": round(share.top, 6),
                "bottom": round(share.bottom, 6),
                "chance": round(share.chance, 6),
            }
            for share in shares
        ],
    }


def _share(value) -> float | None:
    """A share in [0, 1] for JSON: rounded, None where undefined (NaN)."""
    return round(float(value), 4) if np.isfinite(value) else None


def _compare_record(comparison) -> dict:
    """The second model and how far its neighbours and map agree with the first's."""
    height, width, channels = comparison.input_shape
    return {
        "source": comparison.source,
        "sha256": comparison.sha256,
        "bottleneck": comparison.bottleneck,
        "code_size": comparison.code_size,
        "input": {"height": height, "width": width, "channels": channels},
        "k": comparison.k,
        "mean_overlap": round(comparison.mean_overlap, 6),
        "chance_overlap": round(comparison.chance, 6),
        "procrustes_disparity": round(comparison.disparity, 6),
    }


_RAW_BLOCK = 1024  # images whose neighbours' raw cosines are worked out at once


def _raw_similarities(gallery: Gallery) -> Iterator[np.ndarray]:
    """Each image's float64 (k,) raw (uncentred) cosine similarities to its neighbours, in
    manifest order: the manifest's ``similarity_raw``, beside the centred one the gallery shows."""
    neighbours = gallery.neighbour_indices
    count, k = neighbours.shape
    for start in range(0, count, _RAW_BLOCK):
        rows = np.arange(start, min(start + _RAW_BLOCK, count))
        yield from pair_similarities(gallery.codes, np.repeat(rows, k), neighbours[rows].reshape(-1)).reshape(-1, k)


_CELL_BLOCK = 512  # images whose cells are worked out at once, where their cells fit in _CELL_BYTES
_CELL_BYTES = 64 * 2**20


def _cells_by_image(gallery: Gallery, grid: tuple[int, int, int]):
    """Each paged image's float64 (k, h, w) cells against its neighbours, in manifest order,
    from the codes the neighbours were found with (NaN and infinite values set to 0)."""
    neighbours, paged = gallery.neighbour_indices, gallery.paged
    block = rows_within(neighbours.shape[1] * grid[0] * grid[1] * 8, _CELL_BYTES, most=_CELL_BLOCK)
    for start in range(0, len(paged), block):
        yield from neighbour_cells(gallery.codes, neighbours, paged[start : start + block], grid, gallery.code_centre)


def _cell_figures(explanations) -> dict | None:
    """The code-cell map's faithfulness figures for JSON (null for those that do not apply)."""
    figures = explanations.cell_faithfulness if explanations else None
    return None if figures is None else _json_safe({"cells": figures})["cells"]


def _json_safe(figures: dict) -> dict:
    """NaN (an undefined figure) becomes null: JSON has no NaN."""
    return {
        method: {name: (None if value is None or value != value else value) for name, value in row.items()}
        for method, row in figures.items()
    }


ERROR_MAP = "reconstruction_error"
"""The name of the reconstruction error map in a maps file."""


def map_names(gallery: Gallery) -> list[str]:
    """The arrays a paged image's npz file holds (only paged images have one)."""
    names = [ERROR_MAP]
    explanations = gallery.explanations
    if explanations:
        names += list(explanations.methods)
        if explanations.pair_method is not None:
            names.append(pair_name(explanations.pair_method))
    return names


def pair_name(method: str) -> str:
    """The npz name of the pair map against the nearest neighbour's code."""
    return f"{method}__neighbour"


def maps_of(gallery: Gallery, chunk: ExplainedChunk, row: int) -> dict[str, np.ndarray]:
    """Every map of the paged image at row ``row`` of ``chunk``."""
    arrays = {ERROR_MAP: chunk.error_maps[row]}
    explanations = gallery.explanations
    if explanations:
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


_RECORDS = "\0aevis image records\0"  # stands in for the records while the rest is written


def write_manifest(gallery: Gallery, path: Path) -> None:
    """Write the manifest: :func:`manifest` as JSON, the image records one a line (a script can
    read it whole, a person can grep it), written a record at a time: at 100,000 images the
    records as Python objects would take about a gigabyte."""
    head, marker, tail = json.dumps(manifest(gallery, records=_RECORDS), indent=1, ensure_ascii=False).partition(
        json.dumps(_RECORDS)
    )
    if not marker:
        raise RuntimeError("The manifest's image records have no place in it.")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(head)
        separator = "[\n  "
        for record in image_records(gallery):
            handle.write(separator + json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            separator = ",\n  "
        handle.write("[]" if separator == "[\n  " else "\n ]")
        handle.write(tail)


CODES_IN_SITE_LIMIT = 256 * 2**20
"""Codes of more bytes than this (16,384 codes of 4,096 numbers) are written beside the site,
not in it: 100,000 such codes take 1.6 GB, more than the common free static hosts publish."""


def codes_in_site(codes: np.ndarray) -> bool:
    """Whether the codes go in the site's ``data/`` (else beside it, :func:`codes_beside`)."""
    return codes.size * 4 <= CODES_IN_SITE_LIMIT


def codes_beside(out: Path) -> Path:
    """Where codes too large for the site are written: ``<out>-codes.npy``, next to the site folder."""
    return Path(out).with_name(f"{Path(out).name}-codes.npy")


def write_codes(codes: np.ndarray, path: Path) -> None:
    """Save the codes as float32 .npy at ``path``, whole or not at all (written aside, then renamed)."""
    partial = path.with_name(f".{path.name}.partial")
    write_npy(codes, partial)
    partial.replace(path)


def write_data(gallery: Gallery, site: Path) -> None:
    """Write the manifest, and the codes where they fit (the maps are written as they are
    made, :func:`write_maps`; codes too large for the site, by the build beside it)."""
    (site / urls.DATA).mkdir(parents=True, exist_ok=True)
    write_manifest(gallery, site / urls.MANIFEST)
    if codes_in_site(gallery.codes):
        write_npy(gallery.codes, site / urls.CODES)
    if gallery.taught is not None:
        np.savez_compressed(
            site / urls.TAUGHT_BY,
            rows=gallery.taught.sample,
            scores=np.asarray(gallery.taught.sample_scores, np.float32),
        )

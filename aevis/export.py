"""The data contract: ``data/manifest.json``, ``data/codes.npy`` and ``data/maps/<slug>.npz``.

Everything a script needs to reuse a gallery's numbers, in manifest order:

* ``manifest.json``: versions, model, build parameters and one record per image;
* ``codes.npy``: float32 (N, D), row i is image i's flattened bottleneck code;
* ``maps/<slug>.npz``: one float32 (H, W) array per visualization, at the model's input size.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from aevis import __version__
from aevis.gallery import Gallery

MANIFEST_VERSION = 1


def page_href(slug: str) -> str:
    """A page's path relative to the site root."""
    return f"images/{slug}.html"


def manifest(gallery: Gallery) -> dict:
    """The manifest as JSON-ready data (the ``built_at`` field is the only one that varies)."""
    spec = gallery.ae.input_spec
    imageset = gallery.imageset
    records = []
    for index, slug in enumerate(gallery.slugs):
        records.append({
            "name": imageset.names[index],
            "source": imageset.sources[index],
            "slug": slug,
            "page": page_href(slug) if gallery.with_page[index] else None,
            "label": imageset.labels[index] if imageset.labels else None,
            "x": round(float(gallery.positions[index, 0]), 6),
            "y": round(float(gallery.positions[index, 1]), 6),
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
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": {
            "source": gallery.model_info.source,
            "sha256": gallery.model_info.sha256,
            "bottleneck": gallery.ae.bottleneck,
            "bottleneck_reason": gallery.ae.bottleneck_reason,
            "code_size": int(gallery.codes.shape[1]),
            "input": {"height": spec.height, "width": spec.width, "channels": spec.channels, "scale": spec.scale},
        },
        "parameters": gallery.parameters,
        "seed": gallery.parameters["seed"],
        "counts": {
            "images": len(gallery),
            "pages": int(gallery.with_page.sum()),
            "rejected": len(imageset.rejected),
        },
        "maps": sorted(gallery.maps),
        "files": {"codes": "codes.npy", "maps": "maps/{slug}.npz"},
        "images": records,
        "rejected": [{"path": reject.path, "reason": reject.reason} for reject in imageset.rejected],
        "warnings": gallery.warnings,
    }


def write_data(gallery: Gallery, site: Path) -> None:
    """Write the data contract under ``site/data``."""
    data = site / "data"
    (data / "maps").mkdir(parents=True, exist_ok=True)
    (data / "manifest.json").write_text(json.dumps(manifest(gallery), indent=1, ensure_ascii=False))
    np.save(data / "codes.npy", np.ascontiguousarray(gallery.codes, np.float32))
    for index, slug in enumerate(gallery.slugs):
        arrays = {name: values[index].astype(np.float32) for name, values in gallery.maps.items()}
        np.savez_compressed(data / "maps" / f"{slug}.npz", **arrays)

"""Tracing: which training images taught each paged image its code (TracIn over the checkpoints
kept while the seed was trained here; :mod:`aevis.latent.taught_by`)."""

from __future__ import annotations

from aevis._utils import checked
from aevis.gallery import Gallery
from aevis.model.train import read_checkpoints
from aevis.progress import Stages
from aevis.store.results import Results


def trace_teachers(gallery: Gallery, results: Results, stages: Stages) -> Gallery:
    """The gallery with each paged image's proponents and opponents, where the model was trained
    here; as it was for a model the user gave (no checkpoints) or a set of one image."""
    path = gallery.model_info.checkpoints
    try:
        checkpoints = read_checkpoints(path) if path is not None else None
    except checked.Damaged:
        checked.remove(path)
        stages.log(
            f"The cached training checkpoints {path.name} were damaged; they were removed, and the next "
            "build trains the model again. The pages leave out which training images taught each image."
        )
        return gallery
    if checkpoints is None or len(gallery) < 2:
        return gallery
    with stages.stage("Tracing what each image learned from", total=len(gallery) * len(checkpoints.epochs)) as advance:
        return gallery.updated(taught=results.taught_by(checkpoints, gallery.paged, on_progress=advance))

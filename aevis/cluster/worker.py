"""What each worker holds for a build: the model, loaded once when the worker joins."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from aevis._utils.keys import make_key
from aevis.errors import AevisError
from aevis.model import Autoencoder, load_autoencoder
from aevis.model.scale import PixelScales


@dataclass(frozen=True)
class ModelRecipe:
    """How a worker loads the coordinator's autoencoder: its files and how they were opened.

    ``files`` is one whole model's file, or an encoder's and a decoder's; the pixel ranges are
    the coordinator's (found on the images where ``--input-scale auto``), not found again.
    """

    files: tuple[Path, ...]
    bottleneck: str | None
    custom_objects: Path | None
    safe_mode: bool
    scales: PixelScales
    scales_reason: str
    sha256: str

    @property
    def name(self) -> str:
        """The plugin's name: one per model and way of opening it."""
        return (
            "aevis-model-"
            + make_key("worker model", self.files, self.bottleneck, self.sha256, self.scales.input, self.scales.output)[
                :16
            ]
        )

    def load(self) -> Autoencoder:
        """The autoencoder, as the coordinator has it; AevisError where the files differ."""
        if len(self.files) == 1:
            ae = load_autoencoder(
                self.files[0],
                bottleneck=self.bottleneck,
                custom_objects=self.custom_objects,
                input_scale="0-1",
                safe_mode=self.safe_mode,
            )
        else:
            ae = load_autoencoder(
                encoder=self.files[0],
                decoder=self.files[1],
                bottleneck=self.bottleneck,
                custom_objects=self.custom_objects,
                input_scale="0-1",
                safe_mode=self.safe_mode,
            )
        if ae.sha256 != self.sha256:
            raise AevisError(
                f"A worker read another model at {self.files[0]} (SHA-256 {ae.sha256[:12]}…, "
                f"not {self.sha256[:12]}…); the workers need the coordinator's model files."
            )
        return ae.with_scales(self.scales, self.scales_reason)


class ModelOnWorker(WorkerPlugin):
    """Loads the build's model when a worker joins (and when a restarted one rejoins)."""

    def __init__(self, recipe: ModelRecipe) -> None:
        self.recipe = recipe
        self.ae: Autoencoder | None = None

    def setup(self, worker) -> None:
        self.ae = self.recipe.load()


def worker_model(name: str) -> Autoencoder:
    """The model the plugin ``name`` loaded on the worker running this task."""
    return get_worker().plugins[name].ae

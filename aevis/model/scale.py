"""Which pixel values a model was trained on: [0, 1], [0, 255] or [-1, 1], for input and output.

A model fed values of the wrong range still runs: it rebuilds white or grey images and every
map explains nonsense. :func:`detect_scales` feeds a sample of the images in each range, reads
the output back in each range, and keeps the pair that rebuilds the images best, the way a
person would check by eye. A reading that puts the output far outside its own range (a
[0, 255] output read as [0, 1] gives pixels of 200) is never kept, however poor the rebuilds.
aevis works in [0, 1] throughout; :class:`PixelScales` converts at the model's door.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aevis.data.imageset import sample_positions

SCALES = {"0-1": (0.0, 1.0), "0-255": (0.0, 255.0), "-1-1": (-1.0, 2.0)}
"""Scale name to (offset, factor): model value = offset + factor × [0, 1] value."""

AUTO = "auto"
DETECTION_SAMPLE = 64
"""Images, spread over the set, that the detection feeds through the model."""
NEAR_TIE = 1.05
"""Errors within this factor of the lowest are a tie: the sample cannot tell them apart."""
OUT_OF_RANGE = (-0.5, 1.5, 0.01)
"""An output read in a range lies outside it when more than 1 % of its values, brought to
[0, 1], fall below -0.5 or above 1.5: half a range beyond either end, far more than a
linear last layer overshoots."""


@dataclass(frozen=True)
class PixelScales:
    """The value ranges of a model's input and output (names from :data:`SCALES`)."""

    input: str = "0-1"
    output: str = "0-1"

    def __post_init__(self) -> None:
        for scale in (self.input, self.output):
            if scale not in SCALES:
                raise ValueError(f"Expected a pixel scale of {', '.join(SCALES)}, got {scale!r}.")

    def to_model(self, images):
        """[0, 1] images to the model's input range (arrays and tensors alike)."""
        offset, factor = SCALES[self.input]
        return images * factor + offset

    def from_model(self, values):
        """The model's output range back to [0, 1]."""
        offset, factor = SCALES[self.output]
        return (values - offset) / factor

    def describe(self) -> str:
        """'[0, 255]' when both ends agree, else 'input [0, 255], output [0, 1]'."""
        if self.input == self.output:
            return _interval(self.input)
        return f"input {_interval(self.input)}, output {_interval(self.output)}"


@dataclass(frozen=True)
class ScaleDetection:
    """What :func:`detect_scales` found.

    Attributes:
        scales: the pair with the lowest mean squared error.
        error: that error, in [0, 1] pixel units.
        baseline: the error of rebuilding every image as the sample's average image; a model
            that does no better rebuilds these images poorly.
        errors: every pair tried, (input, output) to its error.
        sample: how many images were used.
        out_of_range: the pairs whose output, read in their output range, falls outside it;
            never chosen while another pair is left.
    """

    scales: PixelScales
    error: float
    baseline: float
    errors: dict[tuple[str, str], float]
    sample: int
    out_of_range: frozenset[tuple[str, str]] = frozenset()

    @property
    def poor(self) -> bool:
        """True when even the best pair left rebuilds no better than the average image."""
        return not min(error for pair, error in self.errors.items() if pair not in self.out_of_range) < self.baseline

    def reason(self) -> str:
        ruled_out = ""
        if self.out_of_range:
            ruled_out = (
                f"; {len(self.out_of_range)} pair{'s' if len(self.out_of_range) != 1 else ''} ruled out, "
                "their output far outside the range it was read in"
            )
        if self.poor:
            if (self.scales.input, self.scales.output) == ("0-1", "0-1"):
                return (
                    f"kept: no pair of the {len(self.errors)} pairs of ranges tried on {self.sample} images "
                    f"rebuilds them better than their average image, so the errors cannot tell the ranges apart"
                    f"{ruled_out}"
                )
            return (
                f"the output lies in {_interval(self.scales.output)}, far outside [0, 1]; no pair of the "
                f"{len(self.errors)} pairs of ranges tried on {self.sample} images rebuilds them better than their "
                f"average image, so of the {len(self.errors) - len(self.out_of_range)} pairs whose output stays in "
                "its range the lowest error was kept"
            )
        others = sorted(error for pair, error in self.errors.items() if pair != (self.scales.input, self.scales.output))
        return (
            f"the lowest reconstruction error of the {len(self.errors)} pairs of ranges tried on "
            f"{self.sample} images: {self.error:.4g} (next best {others[0]:.4g}){ruled_out}"
        )

    def warning(self) -> str | None:
        """The sentence for the terminal and the report when the rebuild is poor, else None."""
        if not self.poor:
            return None
        return (
            f"this model does not rebuild these images well: mean error {self.error:.4g}, "
            f"no better than showing the average image ({self.baseline:.4g}); check --input-scale and that "
            "these are the kind of images it was trained on."
        )


def detect_scales(reconstruct, images: np.ndarray) -> ScaleDetection:
    """Try every input range and read the output in every range; keep the best pair.

    Args:
        reconstruct: maps a float32 batch in the model's input range to its raw output.
        images: float32 (N, H, W, C) in [0, 1]; at most :data:`DETECTION_SAMPLE`, spread
            over the set, are used.

    Returns:
        A :class:`ScaleDetection`. Pairs whose output falls outside the range it is read in
        (see :data:`OUT_OF_RANGE`) are ruled out first, unless every pair does. Of the rest,
        pairs within :data:`NEAR_TIE` of the lowest error are a tie, won by matching ranges
        before mixed ones, in :data:`SCALES` order; so a rebuild that changes one image does
        not flip the choice (and every cached result with it). When no pair rebuilds better
        than the average image, the errors say little about the range: [0, 1] is kept if it
        is left, else the tie rule picks among the pairs left.
    """
    sample = np.asarray(images[sample_positions(len(images), DETECTION_SAMPLE)], np.float32)
    errors, out_of_range = {}, set()
    low, high, share = OUT_OF_RANGE
    for input_scale in SCALES:
        raw = np.asarray(reconstruct(PixelScales(input_scale).to_model(sample)), np.float64)
        for output_scale in SCALES:
            rebuilt = PixelScales(output=output_scale).from_model(raw)
            with np.errstate(all="ignore"):
                error = float(np.mean((rebuilt - sample) ** 2))
                outside = float(np.mean((rebuilt < low) | (rebuilt > high)))
            errors[(input_scale, output_scale)] = error if np.isfinite(error) else float("inf")
            if outside > share:
                out_of_range.add((input_scale, output_scale))
    if len(out_of_range) == len(errors):
        out_of_range = set()  # every reading is far off: no range can be ruled out by it
    left = {pair: error for pair, error in errors.items() if pair not in out_of_range}
    baseline = float(np.mean((sample - sample.mean(axis=0)) ** 2))
    lowest = min(left.values())
    if not lowest < baseline and ("0-1", "0-1") in left:
        best = ("0-1", "0-1")
    else:
        preference = sorted(left, key=lambda pair: pair[0] != pair[1])  # stable: SCALES order within
        best = next(pair for pair in preference if left[pair] <= lowest * NEAR_TIE)
    return ScaleDetection(PixelScales(*best), errors[best], baseline, errors, len(sample), frozenset(out_of_range))


def _interval(scale: str) -> str:
    offset, factor = SCALES[scale]
    return f"[{offset:g}, {offset + factor:g}]"

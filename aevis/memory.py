"""How many images go through the model at once, worked out from the model's own layers.

A model call holds every layer's output for each image of its batch (and a gradient holds them
twice over), so what a batch costs is the sum of the layers' output sizes, read from their
shapes: 0.3 MB an image for the 32×32 digits seed, 81 MB for a 540×540 document denoiser with
32 channels at full size. A batch size that suits the one would take the other into tens of
gigabytes, so the build asks for ``--batch-size`` images a call and gets fewer where they would
not fit in :data:`CALL_BYTES`. Everything here is worked out from the shapes alone, so the same
model and options give the same batches, and the same results, on every machine.
"""

from __future__ import annotations

import math
import os

from aevis.errors import AevisError

CALL_BYTES = 192 * 2**20
"""Layer outputs (float32) one model call may hold: with the gradients of a gradient method,
and the copies a call makes of its outputs, about three times this is in use at its peak. (At
256 MB a 540×540×1 model's build peaked at 3.1 GB (GiB), in the faithfulness checks' deletion
curves.)"""
CHUNK_BYTES = 160 * 2**20
"""Layer outputs of the pages explained and drawn together (each page's pictures show every
convolution's maps, held twice as they are gathered, beside its morph's frames); two chunks are
alive at once, one drawn while the next is explained. At 384 MB a 256×256×3 model's build
peaked at 3.0 GB (GiB)."""
PAGES_PER_CHUNK = 32
"""Pages explained, written and drawn together when they fit."""
SAMPLE_BYTES = 512 * 2**20
"""Codes a whole-set fit (principal components, k-means centres) is fitted on at most: its
sample of rows shrinks as the codes grow."""
BLOCK_BYTES = 64 * 2**20
"""Codes a whole-set pass reads, projects or compares at once."""
GRADIENT_FACTOR = 3
"""A gradient of one image holds about this many times its layers' outputs (the outputs, their
gradients, and the copies in between)."""


def image_bytes(ae) -> int:
    """Bytes of every layer's output for one image, the input included, as float32."""
    return 4 * sum(math.prod(int(size) for size in shape) for shape in _output_shapes(ae.model))


def images_per_call(ae, requested: int) -> int:
    """``requested`` images a model call, or as many fewer as keep its layers' outputs within
    :data:`CALL_BYTES` (never fewer than one)."""
    return max(1, min(int(requested), CALL_BYTES // image_bytes(ae)))


def pages_per_chunk(ae) -> int:
    """Pages explained and drawn together: :data:`PAGES_PER_CHUNK`, or as many fewer as keep
    their layers' outputs within :data:`CHUNK_BYTES` (never fewer than one)."""
    return max(1, min(PAGES_PER_CHUNK, CHUNK_BYTES // image_bytes(ae)))


def rows_within(row_bytes: int, budget: int, most: int | None = None) -> int:
    """How many rows of ``row_bytes`` each fit in ``budget`` bytes: at least one, at most ``most``."""
    fitting = max(1, budget // max(1, int(row_bytes)))
    return fitting if most is None else min(fitting, most)


def _output_shapes(model):
    """Each layer's output shape without the batch axis (every output of a layer with several)."""
    for layer in model.layers:
        outputs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
        for output in outputs:
            yield tuple(size for size in output.shape[1:] if size is not None)


def check_fits(ae, gradients: bool, free: int | None = None) -> None:
    """Refuse, in one sentence, a model whose single image would not fit in the memory free on
    this machine (``free`` bytes; None: read now), where the kernel would otherwise kill the
    build; with ``gradients``, its gradients too (all heat-map methods but occlusion take them).
    """
    free = available_bytes() if free is None else free
    if free is None:
        return
    one = image_bytes(ae)
    if one > free:
        raise AevisError(
            f"This model's layers hold {one / 2**30:.1f} GB for each image it reads, more than the "
            f"{free / 2**30:.1f} GB free on this machine: run aevis where more memory is free."
        )
    if gradients and GRADIENT_FACTOR * one > free:
        raise AevisError(
            f"The heat-maps' gradients need about {GRADIENT_FACTOR * one / 2**30:.1f} GB for each image of "
            f"this model, more than the {free / 2**30:.1f} GB free on this machine: draw occlusion "
            "alone, which needs none (--methods occlusion --no-pair-maps), or run aevis where more "
            "memory is free."
        )


def available_bytes() -> int | None:
    """The memory the kernel can still give this process (MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None

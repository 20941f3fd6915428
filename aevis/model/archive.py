"""A ``.keras`` file is a zip archive: its directory is checked before anything in it is read.

The directory states how large each member is, stored and inflated, and Python's zipfile never
inflates a member past its stated size; so a zip bomb (a few megabytes that inflate to
gigabytes, which Keras reads whole into memory) is refused from the directory alone.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from aevis.errors import AevisError

MOST_CONTENT = 4 * 2**30
"""The most bytes an archive may hold once inflated: a billion float32 weights. The largest
autoencoders people bring are far smaller (Stable Diffusion's image autoencoder has 84 million
weights, 335 MB), and a model this size would leave no memory to explain it with."""
MOST_EXPANSION = 20
"""The most a member, or the whole archive, may inflate over its stored size. Keras stores its
members uncompressed (1:1); an archive zipped again compresses trained float32 weights little
(about 1.1:1, their low bits are noise, a sparse model's a few times); DEFLATE reaches 1032:1
on the zeros a bomb is made of."""
SMALL_ENOUGH = 16 * 2**20
"""Below this many inflated bytes any ratio is harmless: a model's config.json (a few hundred KB
for hundreds of layers) compresses well, and is small."""


def check_keras_archive(path: Path) -> None:
    """Refuse, in one sentence, a ``.keras`` archive whose directory says it would inflate to an
    absurd size or by an absurd ratio; nothing is inflated.

    Raises:
        AevisError: the archive would inflate beyond :data:`MOST_CONTENT`, or a member or the
            whole archive beyond :data:`MOST_EXPANSION` times its stored size (past
            :data:`SMALL_ENOUGH`), or its directory cannot be read.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [(member.filename, member.file_size, member.compress_size) for member in archive.infolist()]
    except (zipfile.BadZipFile, OSError) as error:
        raise AevisError(
            f"{path.name} is not a Keras model file: its zip directory is unreadable ({error})."
        ) from error
    inflated = sum(size for _, size, _ in members)
    if inflated > MOST_CONTENT:
        raise AevisError(
            f"{path.name} would inflate to {_size(inflated)}, more than any model aevis can explain "
            f"({_size(MOST_CONTENT)}), so it is not read."
        )
    stored = sum(size for _, _, size in members)
    for name, size, packed in [*members, ("the archive as a whole", inflated, stored)]:
        if size > SMALL_ENOUGH and size > MOST_EXPANSION * packed:
            raise AevisError(
                f"{path.name} is not read: {name} would inflate from {_size(packed)} to {_size(size)} "
                f"({size / max(packed, 1):,.0f} times), as a zip bomb does and no saved model can."
            )


def _size(count: int) -> str:
    """A byte count for people: '1.0 GB', '4.6 MB'."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"

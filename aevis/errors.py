"""The one exception aevis raises for problems a user can fix, and the disk faults told as one."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import NamedTuple


class AevisError(Exception):
    """A problem with the user's input, told in one sentence.

    The command line prints the message and exits with status 2, without a traceback.
    """


_FREE_SPACE = "free some space on it, or "
_FAULTS = {
    errno.ENOSPC: ("its disk is full", _FREE_SPACE),
    errno.EDQUOT: ("its disk quota is used up", _FREE_SPACE),
    errno.EROFS: ("it is on a read-only file system", ""),
    errno.EACCES: ("permission to write there is denied", ""),
    errno.EPERM: ("permission to write there is denied", ""),
}


class Place(NamedTuple):
    """Somewhere a build writes, as a fault names it."""

    name: str
    """How the sentence calls it: 'the output folder site'."""
    root: Path
    """The folder every file written for it lies under."""
    option: str
    """What moves it: 'choose another --out'."""


def disk_fault(error: OSError, places: list[Place]) -> AevisError | None:
    """The one sentence for a disk fault (full, read-only, not permitted) met while writing,
    naming the place and what to do; None for any other error.

    The place is the one holding the file the error names; a write that names no file (a full
    disk is found at ``write()``, not at ``open()``) is put on a place whose disk is full.
    """
    if error.errno not in _FAULTS:
        return None
    what, remedy = _FAULTS[error.errno]
    place = _place_of(error, places)
    return AevisError(f"Could not write {place.name}: {what}; {remedy}{place.option}.")


def _place_of(error: OSError, places: list[Place]) -> Place:
    if error.filename is not None:
        written = Path(os.fsdecode(error.filename)).absolute()
        holding = [place for place in places if written.is_relative_to(place.root.absolute())]
        if holding:  # the innermost: a cache may lie inside the output's parent folder
            return max(holding, key=lambda place: len(place.root.absolute().parts))
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        for place in places:
            if _full(place.root):
                return place
    return places[0]


def _full(folder: Path) -> bool:
    """Whether the disk holding ``folder`` (or its nearest existing parent) has no room left."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 1 << 20

"""Where the site folder is written: staged beside the target, swapped in only when complete.

A marker file tells a folder aevis made from anything else, so a build never replaces a
folder of the user's (``--out ~`` is refused, not emptied).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aevis.errors import AevisError

MARKER = ".aevis-site"


def check_target(out: Path) -> None:
    """Refuse a target that exists and is not an empty folder or an earlier aevis site."""
    if not out.exists():
        return
    if not out.is_dir():
        raise AevisError(f"Expected a folder to write the site to, but {out} is a file.")
    if any(out.iterdir()) and not (out / MARKER).is_file():
        raise AevisError(
            f"Expected an empty folder or an earlier aevis site at {out}, but it holds other files; "
            "choose another --out."
        )


@contextmanager
def staged_site(out: Path) -> Iterator[Path]:
    """Yield a fresh staging folder; on success, swap it in for ``out``.

    The staging folder sits next to ``out`` (same file system, so the swap is a rename).
    If the body raises, the staging folder is removed and ``out`` is untouched.
    """
    out = Path(out)
    check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        (staging / MARKER).write_text("This folder was written by aevis; a rebuild replaces it.\n")
        yield staging
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def zip_site(out: Path) -> Path:
    """Pack the site folder into ``<out>.zip`` beside it, ready to send; return its path.

    The archive holds one top folder named like the site, so it unpacks tidily. It is
    written under a temporary name and renamed, so a half-written zip never exists.
    """
    out = Path(out)
    target = out.with_name(f"{out.name}.zip")
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.zip-") as scratch:
        archive = shutil.make_archive(str(Path(scratch) / out.name), "zip", root_dir=out.parent, base_dir=out.name)
        os.replace(archive, target)
    return target


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.replace(staging, out)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, retired / out.name)
    os.replace(staging, out)
    shutil.rmtree(retired, ignore_errors=True)

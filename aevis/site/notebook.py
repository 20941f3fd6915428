"""A built gallery in a Jupyter notebook: the finding and the counts the index leads with, and a
link that opens the site (:meth:`aevis.gallery.Gallery._repr_html_`)."""

from __future__ import annotations

import os
from pathlib import Path

from aevis.gallery import Gallery
from aevis.site import urls
from aevis.site.html import SITE_TITLE, _environment
from aevis.site.pages import summarise


def gallery_html(gallery: Gallery, here: Path | None = None) -> str:
    """The gallery as a notebook cell's output. Its links are relative to ``here`` (the notebook's
    folder, where Jupyter resolves them; by default the working folder) when the site is inside
    it, and ``file:`` addresses otherwise."""
    site = gallery.site.resolve()
    here = (here or Path.cwd()).resolve()
    root = f"{Path(os.path.relpath(site, here)).as_posix()}/" if site.is_relative_to(here) else f"{site.as_uri()}/"
    return (
        _environment()
        .get_template("notebook.html")
        .render(
            root=root,
            site=summarise(gallery, SITE_TITLE),
            index=site / urls.INDEX,
        )
    )

"""One build, stage by stage: images -> model -> codes -> neighbours and map -> maps -> site.

Everything whole-set is computed and gathered into a :class:`~aevis.gallery.Gallery` first; the
pages' heat-maps and pictures are then made, written and dropped a chunk at a time, into a
staging folder that replaces the old site when it is complete. Every result comes from the
content-addressed cache when an earlier build made it (:mod:`aevis.store.results`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from aevis._utils import checked
from aevis.cluster import open_cluster, start_cluster
from aevis.config import BuildConfig
from aevis.errors import Place, disk_fault
from aevis.faithfulness.blank import blank_method
from aevis.gallery import Gallery
from aevis.network.insides import gather_insides
from aevis.progress import Stages
from aevis.site import (
    html,
    map_sprites,
    network_pictures,
    pictures,
    set_pages,
    thumbnails,
)
from aevis.site.export import (
    codes_beside,
    codes_in_site,
    write_codes,
    write_data,
)
from aevis.site.notebook import gallery_html
from aevis.site.staging import build_lock, check_target, staged_site, zip_site
from aevis.stages.comparing import compare_models
from aevis.stages.explaining import explain_and_draw, plan_explanations
from aevis.stages.gathering import gather
from aevis.stages.loading import (
    Given,
    fitting_batches,
    log_model,
    model_and_images,
    other_model,
)
from aevis.stages.tracing import trace_teachers
from aevis.store.cache import ResultCache
from aevis.store.results import Results


def build(config: BuildConfig, stages: Stages | None = None, given: Given | None = None) -> Gallery:
    """Build the gallery described by ``config`` (and the models and images ``given`` in memory)
    into ``config.out``; return what was gathered.

    Results and pictures are reused from ``config.cache_dir / "results"`` where an earlier
    build made them from the same inputs (:mod:`aevis.store.cache`), unless ``config.cache`` is off.

    Raises:
        AevisError: a problem with the inputs, another build writing ``config.out``, or a full,
            read-only or forbidden disk, in one sentence; the previous site is left as it was.
    """
    stages = stages or Stages(quiet=config.quiet)
    given = given or Given()
    out, cache_dir = Path(config.out), Path(config.cache_dir)
    places = [
        Place(f"the output folder {out}", out.parent, "choose another --out"),
        Place(f"the cache {cache_dir}", cache_dir, "choose another --cache-dir"),
    ]
    try:
        check_target(out)  # fail before the slow part, not after
        with build_lock(out), open_cluster(config) as client:
            checked.check_writable(cache_dir)  # the lock has proved the output's folder writable
            return _build(config, stages, given, client).updated(site=out, notebook_view=gallery_html)
    except OSError as error:
        fault = disk_fault(error, places)
        if fault is None:
            raise
        raise fault from None


def _build(config: BuildConfig, stages: Stages, given: Given, client=None) -> Gallery:
    other = other_model(config, stages) if config.compare is not None else None  # so is a bad --compare
    cache = ResultCache(Path(config.cache_dir) / "results" if config.cache else None, on_damaged=stages.log)
    ae, imageset, model_info = model_and_images(config, given, stages, cache)
    log_model(ae, stages)
    config = fitting_batches(config, ae, stages)
    results = Results(ae, imageset.images, cache, config.batch_size)
    cluster = start_cluster(client, config, model_info.files, ae) if client is not None else None
    if cluster is not None:  # the per-image results into the cache, for the stages below to find
        cluster.encode(results, stages)
    gallery, encoded, code_neighbours = gather(config, ae, imageset, model_info, results, stages)
    gallery = trace_teachers(gallery, results, stages)
    if other is not None:
        gallery = gallery.updated(comparison=compare_models(config, gallery, other, cache, stages))
    with stages.stage("Looking inside the network"):
        insides = gather_insides(
            ae,
            encoded,
            gallery.positions,
            imageset.labels,
            config.seed,
            results,
            code_neighbours,
        )
    gallery = gallery.updated(insides=insides, explanations=plan_explanations(config, gallery, stages))
    # Whose thumbnails are drawn, and what the map says: decided once. (Images that the
    # heat-maps flag later are paged, so pictured already.)
    pictured = thumbnails.pictured(gallery)
    if cluster is not None:
        cluster.explain(config, gallery, results, stages)
    with staged_site(Path(config.out)) as staging:
        explanations, flags = explain_and_draw(config, gallery, results, staging, stages, pictured)
        gallery = gallery.updated(explanations=explanations, flags=flags)
        _log_flags(gallery, stages)
        with stages.stage("Writing pages", total=int(gallery.with_page.sum())) as advance:
            pictures.write_set_pictures(gallery, staging, cache)
            map_sprites.write_map_sprites(imageset.images, gallery.image_keys, gallery.positions, staging, cache)
            network_pictures.write_set_pictures(gallery.insides, imageset.images, gallery.image_keys, staging, cache)
            pictures.write_reading_pictures(gallery, staging, cache)
            set_pages.write_pictures(gallery, staging, cache, results.error_maps)
            pictures.write_compare_pictures(gallery, staging, cache)
            write_data(gallery, staging)
            html.write_pages(gallery, staging, html.SITE_TITLE, pictured, on_progress=advance)
    if not codes_in_site(gallery.codes):
        write_codes(gallery.codes, codes_beside(Path(config.out)))
        stages.log(
            f"The codes take {gallery.codes.nbytes / 1e9:.1f} GB, too much to publish with the site; "
            f"they are beside it, in {codes_beside(Path(config.out))}."
        )
    if cache.enabled:
        stages.log(_reuse_summary(cache))
    if config.zip:
        with stages.stage("Zipping the site"):
            stages.log(f"Wrote {_zip(Path(config.out))}")
    return gallery


def _zip(out: Path) -> Path:
    """``zip_site``, with a disk fault told as the zip's, since the site is in place by then."""
    try:
        return zip_site(out)
    except OSError as error:
        fault = disk_fault(
            error, [Place(f"the zip of the site (which is built) beside {out}", out.parent, "build without --zip")]
        )
        if fault is None:
            raise
        raise fault from None


def _log_flags(gallery: Gallery, stages: Stages) -> None:
    """A line for each image with numerical problems, and one for each method's blank maps."""
    blanks = Counter(method for flags in gallery.flags.values() for method in map(blank_method, flags) if method)
    for index, flags in gallery.flags.items():
        problems = [flag for flag in flags if blank_method(flag) is None]
        if problems:
            stages.log(f"Flagged {gallery.imageset.sources[index]}: {', '.join(problems)}.")
    pages = int(gallery.with_page.sum())
    for method, count in blanks.items():
        stages.log(f"The {method} map is blank (one flat colour) on {count} of {pages} pages; their cards say so.")


def _reuse_summary(cache: ResultCache) -> str:
    """One line: how much of the build came from the cache."""
    reused = sum(cache.hits.values())
    total = reused + sum(cache.misses.values())
    return f"Reused {reused:,} of {total:,} results and pictures from the cache."

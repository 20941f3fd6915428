"""The cluster path against one process, on the same cores: cold builds of the same images.

    python bench/cluster.py --count 10000 --pages 100 --workers 2 --runs 1

Each build is cold (its own fresh results cache; the given model, the seed architecture trained
once on 160 shapes as ``bench/run.py --large`` trains it, is not trained again) and runs as
``python generate.py`` with ``SOURCE_DATE_EPOCH`` set, once alone and once with ``--workers N``
(a local Dask cluster of N worker processes, started and stopped by the build, all on this
machine's cores). Prints each build's seconds and stage timings, the cluster path's overhead
(its time over the single process's, less one), and whether the two sites are identical, file
for file. Runs alternate (single, cluster, single, ...) so that a change in the machine's load
falls on both; the load average is printed with each run, since the figure means little on a
machine that others are using.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench.run, run from anywhere

from bench.run import seed_model_file, site_bytes, timed_build

_CLUSTER_STAGES = ("Encoding on the cluster", "Explaining on the cluster")


def _same_site(first: Path, second: Path) -> bool:
    files = [{path.relative_to(site): path for path in site.rglob("*") if path.is_file()} for site in (first, second)]
    return files[0].keys() == files[1].keys() and all(
        files[0][name].read_bytes() == files[1][name].read_bytes() for name in files[0])


def main() -> None:
    arguments = _arguments()
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"  # the builds' children read it
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        model = seed_model_file(arguments.cache_dir)
        options = ("--model", str(model), "--dataset", "shapes", "--count", str(arguments.count),
                   "--pages", str(arguments.pages))
        times = {"single": [], "cluster": []}
        sites = {}
        for run in range(arguments.runs):
            for path, extra in (("single", ()), ("cluster", ("--workers", str(arguments.workers)))):
                out, cache = scratch / f"site-{path}-{run}", scratch / f"cache-{path}-{run}"
                load = os.getloadavg()[0]
                build = timed_build(out, cache, *options, *extra)
                times[path].append(build.seconds)
                stages = "; ".join(f"{name} {seconds:.1f} s" for name, seconds in build.stages.items())
                print(f"{path} run {run}: {build.seconds:.1f} s (load average {load:.1f} before, "
                      f"{os.getloadavg()[0]:.1f} after); coordinator peak RSS {build.peak_rss_gb:.2f} GB; "
                      f"site {site_bytes(out) / 1e6:.0f} MB; {stages}", flush=True)
                if path in sites:
                    shutil.rmtree(out)
                else:
                    sites[path] = out
                shutil.rmtree(cache)
        single, cluster = statistics.median(times["single"]), statistics.median(times["cluster"])
        print(f"{arguments.count:,} images, {arguments.pages} pages, {os.cpu_count()} cores: one process "
              f"{single:.1f} s, {arguments.workers} workers {cluster:.1f} s (medians of {arguments.runs}); "
              f"overhead {cluster / single - 1:+.1%}; sites identical: {_same_site(sites['single'], sites['cluster'])}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="built-in shapes (default: %(default)s)")
    parser.add_argument("--pages", type=int, default=100, help="paged images (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=1, help="builds of each kind (default: %(default)s)")
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).resolve().parent.parent / ".aevis-cache",
                        help="where the given model is trained once and kept (default: %(default)s)")
    return parser.parse_args()


if __name__ == "__main__":
    main()

"""The cluster path against one process, on the same cores: cold builds of the same images.

    python bench/cluster.py --count 10000 --pages 100 --workers 2 --runs 1

Each build is cold (its own fresh results cache; the given model, the seed architecture trained
once on 160 shapes as ``bench/run.py --large`` trains it, is not trained again) and runs as
``python generate.py`` with ``SOURCE_DATE_EPOCH`` set, once alone and once with ``--workers N``
(a local Dask cluster of N worker processes, started and stopped by the build, all on this
machine's cores). Prints each build's seconds and stage timings, the cluster path's overhead
(its time over the single process's, less one: wall time, and CPU time of every process of the
build), and whether the two sites are identical, file for file. Runs alternate (single, cluster, single, ...) so that a change in the machine's load
falls on both; the load average is printed with each run, since the figure means little on a
machine that others are using.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench.run, run from anywhere

from bench.run import ROOT, seed_model_file, site_bytes, stage_timings

# The build runs under this launcher, which reports the CPU seconds of the build and every process
# it started and waited for (a local cluster's workers included): on a machine that others load,
# a build of three processes gets more of the cores than one of one, so wall time flatters the
# cluster there, and CPU time is the fairer measure of its overhead.
_LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"cpu_seconds={usage.ru_utime + usage.ru_stime} peak_rss_kib={usage.ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def timed_build(out: Path, cache: Path, *extra: str) -> dict:
    """``python generate.py`` into ``out``: wall and CPU seconds, the largest process's peak RSS, stage times."""
    command = [sys.executable, "generate.py", "--out", str(out), "--cache-dir", str(cache), "--quiet", *extra]
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command], cwd=ROOT, stderr=subprocess.PIPE, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if run.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{run.stderr[-2000:]}")
    printed, _, figures = run.stderr.rpartition("cpu_seconds=")
    cpu, _, peak = figures.partition(" peak_rss_kib=")
    return {"seconds": seconds, "cpu": float(cpu), "peak_gb": int(peak) / 2**20, "stages": stage_timings(printed)}


def _same_site(first: Path, second: Path) -> bool:
    files = [{path.relative_to(site): path for path in site.rglob("*") if path.is_file()} for site in (first, second)]
    return files[0].keys() == files[1].keys() and all(
        files[0][name].read_bytes() == files[1][name].read_bytes() for name in files[0]
    )


def main() -> None:
    arguments = _arguments()
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"  # the builds' children read it
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        model = seed_model_file(arguments.cache_dir)
        options = (
            "--model",
            str(model),
            "--dataset",
            "shapes",
            "--count",
            str(arguments.count),
            "--pages",
            str(arguments.pages),
        )
        times = {"single": [], "cluster": []}
        cpu = {"single": [], "cluster": []}
        sites = {}
        for run in range(arguments.runs):
            for path, extra in (("single", ()), ("cluster", ("--workers", str(arguments.workers)))):
                out, cache = scratch / f"site-{path}-{run}", scratch / f"cache-{path}-{run}"
                load = os.getloadavg()[0]
                build = timed_build(out, cache, *options, *extra)
                times[path].append(build["seconds"])
                cpu[path].append(build["cpu"])
                stages = "; ".join(f"{name} {seconds:.1f} s" for name, seconds in build["stages"].items())
                print(
                    f"{path} run {run}: {build['seconds']:.1f} s, {build['cpu']:.1f} CPU s (load average "
                    f"{load:.1f} before, {os.getloadavg()[0]:.1f} after); largest process's peak RSS "
                    f"{build['peak_gb']:.2f} GB; site {site_bytes(out) / 1e6:.0f} MB; {stages}",
                    flush=True,
                )
                if path in sites:
                    shutil.rmtree(out)
                else:
                    sites[path] = out
                shutil.rmtree(cache)
        print(f"sites identical: {_same_site(sites['single'], sites['cluster'])}", flush=True)
        single, cluster = statistics.median(times["single"]), statistics.median(times["cluster"])
        single_cpu, cluster_cpu = statistics.median(cpu["single"]), statistics.median(cpu["cluster"])
        print(
            f"{arguments.count:,} images, {arguments.pages} pages, {os.cpu_count()} cores, medians of "
            f"{arguments.runs}: one process {single:.1f} s ({single_cpu:.1f} CPU s), {arguments.workers} workers "
            f"{cluster:.1f} s ({cluster_cpu:.1f} CPU s); overhead {cluster / single - 1:+.1%} in wall time, "
            f"{cluster_cpu / single_cpu - 1:+.1%} in CPU time"
        )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="built-in shapes (default: %(default)s)")
    parser.add_argument("--pages", type=int, default=100, help="paged images (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=1, help="builds of each kind (default: %(default)s)")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(__file__).resolve().parent.parent / ".aevis-cache",
        help="where the given model is trained once and kept (default: %(default)s)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    main()

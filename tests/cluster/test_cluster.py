"""A build on a Dask cluster of real processes on localhost (``dask scheduler``, ``dask worker``,
TCP): the site equals the single-process build's to the byte, also when a worker is killed
mid-build; a scheduler that cannot be reached is one sentence.

The cluster is started once for the module (its workers import TensorFlow, seconds each).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from aevis.cli import config_from_arguments, main
from aevis.cluster import connect, shards
from aevis.cluster.shards import Cluster
from aevis.config import BuildConfig
from aevis.errors import AevisError
from aevis.pipeline import build
from tests.conftest import TINY_BUILD

REPOSITORY = Path(__file__).resolve().parents[2]
BUILD = dict(
    TINY_BUILD,
    methods=("saliency", "gradcam"),
    faithfulness_sample=0,
    build_time=datetime.fromtimestamp(1_700_000_000, UTC),
)
"""The tiny demo, every page with a gradient method, a layer method and pair maps (each method
traces its own graphs on every worker: all five cost a minute more); the faithfulness checks
(the coordinator's, never the workers') left out to keep it quick."""


def _files(site: Path) -> dict[str, bytes]:
    return {path.relative_to(site).as_posix(): path.read_bytes() for path in sorted(site.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a ``dask scheduler`` with two ``dask worker`` processes (one thread each)
    under one nanny process, which restarts a killed worker."""
    root = tmp_path_factory.mktemp("dask")
    address_file = root / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY), "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dask",
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(address_file),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=root,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists():
            assert time.monotonic() < deadline and started[0].poll() is None, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        started.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dask",
                    "worker",
                    address,
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--local-directory",
                    str(root),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=root,
            )
        )
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        if len(started) == 2:
            with contextlib.suppress(Exception), distributed.Client(address, timeout=10) as client:
                client.shutdown()  # scheduler and workers at once: quicker than a signal to each
        for process in reversed(started):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """The single-process build of :data:`BUILD`: its site and cache folder."""
    root = tmp_path_factory.mktemp("single")
    build(BuildConfig(out=root / "site", cache_dir=root / "cache", **BUILD))
    return root / "site", root / "cache"


def _cold_cache(single_cache: Path, cache: Path) -> Path:
    """A cache with the single build's trained seed model but none of its results: the workers
    compute everything, and the model is not trained again (training is not what is tested)."""
    cache.mkdir()
    for path in single_cache.iterdir():
        if path.is_file():
            shutil.copy2(path, cache / path.name)
    return cache


def test_a_cluster_build_equals_the_single_process_build_to_the_byte(scheduler, single, tmp_path):
    site, single_cache = single
    cache = _cold_cache(single_cache, tmp_path / "cache")
    build(BuildConfig(out=tmp_path / "site", cache_dir=cache, dask=scheduler, **BUILD))
    computed = {path.parent.parent.name for path in (cache / "results" / "arrays").rglob("*.npz")}
    assert {"encoded", "saliency", "gradcam__pair"} <= computed  # the workers' results, through the cache
    first, second = _files(site), _files(tmp_path / "site")
    assert first.keys() == second.keys() and len(first) > 100
    assert [name for name in first if first[name] != second[name]] == []


def test_a_worker_killed_mid_build_costs_only_its_tasks(scheduler, single, tmp_path):
    site, single_cache = single
    cache = _cold_cache(single_cache, tmp_path / "cache")
    killed = []

    def kill_the_first_explaining_worker() -> None:
        """SIGKILL the worker process that holds the first heat-map shard, once it holds it."""
        with distributed.Client(scheduler, timeout=30) as client:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                for worker, keys in client.processing().items():
                    if any(str(key).startswith("_explain_shard") for key in keys):
                        pid = client.run(os.getpid, workers=[worker])[worker]
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                        return
                time.sleep(0.02)

    watcher = threading.Thread(target=kill_the_first_explaining_worker)
    watcher.start()
    try:
        build(BuildConfig(out=tmp_path / "site", cache_dir=cache, dask=scheduler, **BUILD))
    finally:
        watcher.join()
    assert len(killed) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # it is gone; its shard ran again on the other worker
    first, second = _files(site), _files(tmp_path / "site")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(connect, "CONNECT_TIMEOUT", 1)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    with pytest.raises(AevisError) as caught:
        build(BuildConfig(out=tmp_path / "site", cache_dir=tmp_path / "cache", dask=address, **TINY_BUILD))
    message = str(caught.value)
    assert message.startswith(f"Could not reach the Dask scheduler at {address} (")
    assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")
    assert not (tmp_path / "site").exists()

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)  # the command reads the address from here too
    assert main(["--out", str(tmp_path / "site"), "--cache-dir", str(tmp_path / "cache"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == f"aevis: {message}"


def test_cluster_options_are_checked_with_the_others(monkeypatch):
    for options, expected in [
        ({"workers": 0}, "workers must be at least 1, got 0."),
        ({"workers": 2, "dask": "tcp://127.0.0.1:8786"}, "Give --dask (a running scheduler) or --workers"),
        ({"workers": 2, "cache": False}, "The cluster's workers hand their results over through the cache"),
    ]:
        with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            BuildConfig(**options)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.5:8786")
    assert config_from_arguments([]).dask == "tcp://10.0.0.5:8786"
    assert config_from_arguments(["--workers", "3"]).dask is None
    # Where the build runs is not part of what it produces: the manifest's parameters omit it.
    assert "dask" not in BuildConfig(dask="tcp://10.0.0.5:8786").as_record()
    assert "workers" not in BuildConfig(workers=2).as_record()


def test_a_model_handed_over_in_memory_cannot_go_to_the_workers():
    with pytest.raises(AevisError, match=r"A model handed over in memory cannot go to the cluster's workers: save it"):
        Cluster.start(None, BuildConfig(), (), None)


def test_a_scheduler_without_workers_is_one_sentence(monkeypatch):
    monkeypatch.setattr(shards, "WORKERS_TIMEOUT", 1)
    with (
        distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
        pytest.raises(AevisError) as caught,
    ):
        Cluster(client, None, Path("cache"))
    assert str(caught.value) == (
        f"The Dask scheduler at {cluster.scheduler_address} has no workers; start some "
        f"with 'dask worker {cluster.scheduler_address}'."
    )

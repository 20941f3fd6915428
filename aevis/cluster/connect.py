"""Reaching a Dask scheduler, or starting a local cluster of worker processes."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from aevis.config import BuildConfig
from aevis.errors import AevisError

CONNECT_TIMEOUT = 10
"""Seconds to wait for a scheduler given by ``--dask`` before saying it cannot be reached."""
_QUIET_WORKERS = {"TF_CPP_MIN_LOG_LEVEL": "2"}  # TensorFlow's start-up chatter, once per worker, unless --verbose


@contextlib.contextmanager
def open_cluster(config: BuildConfig) -> Iterator[object | None]:
    """A ``distributed.Client`` for the build: to the scheduler at ``config.dask``, or to a local
    cluster of ``config.workers`` processes started here and stopped after; None for a build on
    one machine (neither is set).

    Raises:
        AevisError: dask is not installed, or the scheduler cannot be reached, in one sentence.
    """
    if config.dask is None and config.workers is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise AevisError("--dask and --workers need Dask's distributed scheduler: pip install 'aevis[dask]'.") from None
    with contextlib.ExitStack() as stack:
        if config.workers is not None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=config.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                    env={} if config.verbose else _QUIET_WORKERS,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(_client(Client, config.dask))
        yield client


@contextlib.contextmanager
def _client(client_class, address: str):
    """A client of the scheduler at ``address``; AevisError where it cannot be reached."""
    try:
        client = client_class(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0].rstrip(".") if str(error) else type(error).__name__
        raise AevisError(
            f"Could not reach the Dask scheduler at {address} ({reason}); start one with "
            "'dask scheduler' or check --dask and DASK_SCHEDULER_ADDRESS."
        ) from None
    with client:
        yield client


def start_cluster(client, config: BuildConfig, files, ae):
    """The :class:`~aevis.cluster.shards.Cluster` of ``client`` with the build's model loaded on
    every worker (:meth:`~aevis.cluster.shards.Cluster.start`)."""
    from aevis.cluster.shards import (
        Cluster,  # imports Dask, an optional extra: only for a cluster build
    )

    return Cluster.start(client, config, files, ae)

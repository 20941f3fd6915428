"""The per-image stages on a Dask cluster: where a build runs beyond one machine.

With ``--dask ADDRESS`` (or ``DASK_SCHEDULER_ADDRESS``) the build uses a running scheduler; with
``--workers N`` it starts a local cluster of N worker processes. Each worker loads the model once
(:class:`~aevis.cluster.worker.ModelOnWorker`); the workers encode the images and explain the
paged ones, and put every result into the content-addressed cache (:mod:`aevis.store.cache`),
which must be a folder every worker reaches at the same path. The coordinator (the ``aevis``
process) then runs the ordinary build, whose per-image results are all cache hits, so the site is
the one a single process builds, to the byte. A killed worker costs only its tasks: the
scheduler runs them again elsewhere, and a half-written entry is never seen (entries are
written under temporary names and renamed).

Needs the ``dask`` extra: ``pip install 'aevis[dask]'``.
"""

from aevis.cluster.connect import open_cluster, start_cluster

__all__ = ["open_cluster", "start_cluster"]

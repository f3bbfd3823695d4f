"""Local Dask workers forked from a warm server process instead of started afresh.

A Dask ``LocalCluster`` starts each worker as a new Python process (``spawn``), which imports Dask, numpy,
numba and the flight code and loads numba's registries before it can fly: ≈ 1 s of CPU per worker, on
the cores the flights want. With the ``forkserver`` start method those imports happen once, in a server
process that :func:`start` launches at the beginning of a campaign, while this process samples the runs
and writes the manifest; each worker is then a fork of the server, ready at once, and it exits as fast.
Two workers, 10 runs each (AMD EPYC, 2 cores): the cluster up in 0.24 s instead of 1.35 s, closed in
0.02 s instead of 0.66 s, the campaign 6.4 s instead of 8.1 s (docs/campaigns.md § Speed).

Dask sets its pre-spawn environment (one BLAS/OpenMP thread per worker, a fixed ``PYTHONHASHSEED``) in
this process just before it starts a worker, which a fork of the server would not see: the server is
started with it. Where ``forkserver`` does not exist (Windows), the workers are spawned as before.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

#: The module the server imports before it forks any worker (touchdown.campaign.worker_preload).
PRELOAD = ("touchdown.campaign.worker_preload",)
METHOD = "forkserver"


def available() -> bool:
    """Whether this platform can fork workers from a server (POSIX)."""
    return METHOD in multiprocessing.get_all_start_methods()


def dask_config() -> dict[str, Any]:
    """The Dask setting that makes a LocalCluster fork its workers from the server (empty: spawn)."""
    return {"distributed.worker.multiprocessing-method": METHOD} if available() else {}


def _server_environ() -> dict[str, str]:
    """Dask's pre-spawn environment for the workers (variables already set here win, as Dask does)."""
    import dask

    env = {str(k): str(v) for k, v in (dask.config.get("distributed.nanny.pre-spawn-environ") or {}).items()}
    env.setdefault("PYTHONHASHSEED", "6640")  # what Dask's nanny gives its workers when none is set
    return {k: v for k, v in env.items() if k not in os.environ}


def start() -> bool:
    """Launch the server the local workers fork from, if not running yet; it imports their code in the
    background. Returns False where workers cannot be forked (they are spawned then). Idempotent."""
    if not available():
        return False
    import multiprocessing.forkserver as forkserver

    import dask
    from distributed.utils import get_mp_context

    with dask.config.set(dask_config()):
        ctx = get_mp_context()  # Dask fixes its own preload list at the first call; ours replaces it
    ctx.set_forkserver_preload(list(PRELOAD))
    env = _server_environ()
    os.environ.update(env)
    try:
        forkserver.ensure_running()
    finally:
        for k in env:
            os.environ.pop(k, None)
    return True


def stop() -> None:
    """Stop the server and wait for it, so that its workers' CPU time counts as this process's children's
    (the benchmark's use); the next :func:`start` launches a fresh one. A no-op when none runs."""
    if not available():
        return
    import multiprocessing.forkserver as forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop_server = getattr(server, "_stop", None)  # the standard library's own (used by its tests)
    if stop_server is not None:
        stop_server()

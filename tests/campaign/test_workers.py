"""The server local campaign workers are forked from (touchdown.campaign.workers)."""

from __future__ import annotations

import os

import psutil
import pytest

from touchdown.campaign import workers

pytestmark = pytest.mark.skipif(not workers.available(), reason="no forkserver on this platform")


def _servers() -> list[psutil.Process]:
    return [c for c in psutil.Process().children() if "multiprocessing.forkserver" in " ".join(c.cmdline())]


def test_the_server_gets_dasks_worker_environment_and_this_process_keeps_its_own():
    workers.stop()  # a server another test started in this process
    assert not _servers()
    before = dict(os.environ)
    assert workers.start() and workers.start()  # idempotent: one server
    try:
        (server,) = _servers()
        env = server.environ()
        assert env["OPENBLAS_NUM_THREADS"] == os.environ.get("OPENBLAS_NUM_THREADS", "1")
        assert env["OMP_NUM_THREADS"] == os.environ.get("OMP_NUM_THREADS", "1")
        assert "PYTHONHASHSEED" in env
        assert dict(os.environ) == before
    finally:
        workers.stop()
    assert not _servers()
    workers.stop()  # none running: nothing to do

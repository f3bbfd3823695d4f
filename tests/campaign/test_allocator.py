"""glibc's thresholds in a worker whose environment fixed them (Dask's nanny does)."""

import os
import platform
import subprocess
import sys

import pytest

PROBE = "from touchdown.campaign.allocator import restore_large_thresholds as r; print(r())"


def _probe(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_thresholds_restored_where_the_environment_fixed_them():
    assert _probe({"MALLOC_TRIM_THRESHOLD_": "65536"}) == "True"


def test_ordinary_process_left_alone():
    assert _probe({}) == "False"

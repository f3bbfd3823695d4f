"""Data directory, product registry, and downloads against a local HTTP server (no internet)."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from touchdown import datastore
from touchdown.errors import InputError

# shared/data/terrain/SOURCE.md (REFERENCE §2.1).
SOURCE_SHA = {
    "LDEM_4.IMG": "972d66d7f330abca62abc21aae270661516c00dd1a881ec102b94df9563656b5",
    "LDEM_4.LBL": "b5a197b4d417e3b5e0e84f8fe15f9a1d2203b8eb5d7213236c0ffbc86e940cc6",
}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path, shared_data_dir: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving lower-case copies of the LDEM_4 files (as the PDS names them)."""
    root = tmp_path / "mirror"
    root.mkdir()
    for name in ("LDEM_4.IMG", "LDEM_4.LBL"):
        shutil.copy(shared_data_dir / "terrain" / name, root / name.lower())
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/lola", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def served(mirror: tuple[str, Path]) -> tuple[str, Path]:
    """Same, with the files under /lola/ as in a mirror's subfolder."""
    url, root = mirror
    (root / "lola").mkdir()
    for f in list(root.glob("ldem_4.*")):
        f.rename(root / "lola" / f.name)
    return url, root / "lola"


def test_data_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOUCHDOWN_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datastore.data_dir() == tmp_path / "home" / ".cache" / "touchdown"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datastore.data_dir() == tmp_path / "xdg" / "touchdown"
    monkeypatch.setenv("TOUCHDOWN_DATA", str(tmp_path / "env"))
    assert datastore.data_dir() == tmp_path / "env"
    assert datastore.data_dir(tmp_path / "arg") == tmp_path / "arg"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="file"):
        datastore.data_dir(tmp_path / "file")


def test_registry_pins_the_source_hashes(shared_data_dir: Path) -> None:
    product = datastore.get_product("LDEM_4")
    assert product.sha256 == SOURCE_SHA
    for name, sha in SOURCE_SHA.items():
        assert datastore.file_sha256(shared_data_dir / "terrain" / name) == sha
    assert product.image_bytes == (shared_data_dir / "terrain" / "LDEM_4.IMG").stat().st_size
    assert set(datastore.PRODUCTS) >= {
        "ldem_16",
        "ldem_64",
        "ldem_512_45n_90n_000_090",
        "ldem_512_45n_90n_270_360",
    }
    assert datastore.PRODUCTS["ldem_64"].image_bytes == 530_841_600
    with pytest.raises(InputError, match="ldem_4"):
        datastore.get_product("ldem_5")


def test_find_dem(shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOUCHDOWN_DATA", str(shared_data_dir))
    label = shared_data_dir / "terrain" / "LDEM_4.LBL"
    assert datastore.find_dem("LDEM_4") == label
    assert datastore.find_dem("ldem_4.img") == label
    assert datastore.find_dem(shared_data_dir / "terrain" / "LDEM_4.IMG") == label
    assert datastore.find_dem("ldem_16") is None
    assert datastore.find_dem(tmp_path / "nothing.lbl") is None
    assert datastore.find_dem("ldem_4", data_dir=tmp_path) is None


def test_fetch_verify_info_and_refetch(served: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = served
    data = tmp_path / "data"
    events: list[datastore.FetchEvent] = []
    paths = datastore.fetch(["ldem_4"], data_dir=data, base_url=url, progress=events.append)
    assert paths == [data / "terrain" / "LDEM_4.LBL", data / "terrain" / "LDEM_4.IMG"]
    for p in paths:
        assert datastore.file_sha256(p) == SOURCE_SHA[p.name]
    done = [e for e in events if e.kind == "done"]
    assert [e.file for e in done] == ["LDEM_4.LBL", "LDEM_4.IMG"] and all(e.pinned for e in done)
    assert [e for e in events if e.kind == "advance"][-1].done == 2_073_600
    (row,) = [r for r in datastore.info(data) if r["product"] == "ldem_4"]
    assert row["present"] and row["verified"] is True and row["bytes"] == 2_073_600 + 5_107
    # Re-fetch: nothing downloaded, files untouched.
    mtimes = [p.stat().st_mtime_ns for p in paths]
    events.clear()
    assert datastore.fetch("ldem_4", data_dir=data, base_url=url, progress=events.append) == paths
    assert [e.kind for e in events] == ["skip", "skip"]
    assert [p.stat().st_mtime_ns for p in paths] == mtimes
    assert sorted(f.name for f in (data / "terrain").iterdir()) == ["LDEM_4.IMG", "LDEM_4.LBL"]


def test_corrupted_download_leaves_nothing(served: tuple[str, Path], tmp_path: Path) -> None:
    url, root = served
    raw = bytearray((root / "ldem_4.img").read_bytes())
    raw[1_000_000] ^= 0x01
    (root / "ldem_4.img").write_bytes(bytes(raw))
    data = tmp_path / "data"
    with pytest.raises(InputError) as exc:
        datastore.fetch(["ldem_4"], data_dir=data, base_url=url)
    msg = str(exc.value)
    assert "sha256 mismatch for LDEM_4.IMG" in msg and "\n" not in msg
    assert sorted(f.name for f in (data / "terrain").iterdir()) == ["LDEM_4.LBL"]  # verified label only
    # Through the CLI: exit code 2, one line on stderr, still nothing partial.
    proc = subprocess.run(
        [sys.executable, "-m", "touchdown", "data", "fetch", "--data-dir", str(data), "--base-url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("touchdown: error:") and "sha256 mismatch" in lines[0]
    assert sorted(f.name for f in (data / "terrain").iterdir()) == ["LDEM_4.LBL"]


def test_forced_refetch_of_corrupt_source_keeps_the_good_file(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = served
    data = tmp_path / "data"
    datastore.fetch("ldem_4", data_dir=data, base_url=url)
    (root / "ldem_4.img").write_bytes(b"\0" * 2_073_600)
    with pytest.raises(InputError, match="sha256 mismatch"):
        datastore.fetch("ldem_4", data_dir=data, base_url=url, force=True)
    assert datastore.file_sha256(data / "terrain" / "LDEM_4.IMG") == SOURCE_SHA["LDEM_4.IMG"]
    assert sorted(f.name for f in (data / "terrain").iterdir()) == ["LDEM_4.IMG", "LDEM_4.LBL"]


def test_unpinned_product_reports_its_hash(
    mirror: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = mirror
    for name in ("ldem_4.img", "ldem_4.lbl"):  # serve under the names of an unpinned product
        shutil.copy(root / name, root / name.replace("ldem_4", "test_grid"))
    product = datastore.Product(
        "test_grid",
        "test",
        "TEST_GRID.IMG",
        "TEST_GRID.LBL",
        {"TEST_GRID.IMG": None, "TEST_GRID.LBL": None},
        1,
    )
    monkeypatch.setitem(datastore.PRODUCTS, "test_grid", product)
    events: list[datastore.FetchEvent] = []
    datastore.fetch(
        ["test_grid"], data_dir=tmp_path / "d", base_url=url.removesuffix("/lola"), progress=events.append
    )
    done = {e.file: e for e in events if e.kind == "done"}
    assert done["TEST_GRID.IMG"].sha256 == SOURCE_SHA["LDEM_4.IMG"] and not done["TEST_GRID.IMG"].pinned
    (row,) = [r for r in datastore.info(tmp_path / "d") if r["product"] == "test_grid"]
    assert row["present"] and row["verified"] is None and not row["pinned"]


def test_http_and_connection_errors(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = mirror
    with pytest.raises(InputError, match="HTTP 404") as exc:
        datastore.fetch("ldem_4", data_dir=tmp_path / "d", base_url=url + "/nowhere")
    assert "\n" not in str(exc.value)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match="cannot connect"):
        datastore.fetch("ldem_4", data_dir=tmp_path / "d", base_url=f"http://127.0.0.1:{port}")
    assert list((tmp_path / "d" / "terrain").iterdir()) == []


def test_cli_info_json_and_bad_data_dir(shared_data_dir: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "touchdown", "data", "info", "--data-dir", str(shared_data_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (row,) = [r for r in doc["products"] if r["product"] == "ldem_4"]
    assert row["present"] and row["verified"] is True
    (tmp_path / "afile").write_text("x")
    proc = subprocess.run(
        [sys.executable, "-m", "touchdown", "data", "info", "--data-dir", str(tmp_path / "afile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "afile" in lines[0] and "Traceback" not in proc.stderr

"""A campaign directory: its manifest, its chunks of result rows, and the merged results.

::

    DIR/manifest.json          scenario text and overrides, root seed, N, sampler, chunk plan, version, git
    DIR/chunks/chunk-00012.parquet   rows of chunk 12, written atomically when the chunk is done
    DIR/runs.parquet           every run, ordered by run (written when the last chunk is in)
    DIR/trajectories.parquet   with --trajectories: every run's decimated trajectory (run, t_s, …)
    DIR/summary.json           the campaign's statistics (``touchdown campaign --json`` prints the same)

Every file is written to a temporary name in the same directory and renamed into place, so a killed
campaign leaves whole chunks or none: ``--resume`` flies exactly the chunks that are missing. Parquet is
written and read through DuckDB.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from touchdown.atomic import atomic_path, write_text
from touchdown.errors import InputError

MANIFEST = "manifest.json"
RUNS = "runs.parquet"
SUMMARY = "summary.json"
CHUNKS = "chunks"
TRAJECTORIES = "trajectories.parquet"
TRAJECTORY_CHUNKS = "trajectory-chunks"
FORMAT = 1


def write_json(path: Path, doc: dict[str, Any]) -> None:
    write_text(path, json.dumps(doc, indent=2) + "\n")


def _table(columns: dict[str, np.ndarray]) -> pa.Table:
    arrays = {}
    for k, v in columns.items():
        arrays[k] = pa.array(v.tolist() if v.dtype == object else v)
    return pa.table(arrays)


def write_parquet(columns: dict[str, np.ndarray], path: Path) -> None:
    """Rows (one array per column) to ``path`` through DuckDB, atomically."""
    with atomic_path(path) as tmp:
        con = duckdb.connect()
        try:
            con.register("rows", _table(columns))
            con.execute(f"COPY (SELECT * FROM rows) TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd)")
        finally:
            con.close()


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


class CampaignDir:
    """The files of one campaign (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def runs_path(self) -> Path:
        return self.path / RUNS

    def chunk_path(self, i: int) -> Path:
        return self.path / CHUNKS / f"chunk-{i:05d}.parquet"

    # ------------------------------------------------------------------ manifest
    def create(self, manifest: dict[str, Any]) -> None:
        """Start a new campaign here (the directory may exist but must not hold a campaign)."""
        if self.manifest_path.exists():
            raise InputError(
                f"{self.path} already holds a campaign; complete it with --resume {self.path}, "
                "or choose another --out"
            )
        try:
            (self.path / CHUNKS).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot create the campaign directory: {exc.strerror}") from None
        write_json(self.manifest_path, {"format": FORMAT, **manifest})

    def manifest(self) -> dict[str, Any]:
        """The manifest; InputError if the directory holds no readable campaign."""
        try:
            doc = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{self.path}: no campaign here ({MANIFEST} missing)") from None
        except (OSError, ValueError) as exc:
            raise InputError(f"{self.manifest_path}: unreadable manifest: {exc}") from None
        if doc.get("format") != FORMAT:
            raise InputError(
                f"{self.manifest_path}: manifest format {doc.get('format')!r}, expected {FORMAT}"
            )
        return doc

    def update_manifest(self, **fields: Any) -> None:
        write_json(self.manifest_path, {**self.manifest(), **fields})

    # ------------------------------------------------------------------ chunks and results
    def done_chunks(self) -> set[int]:
        """Chunks whose file is complete (temporary files of an interrupted write are removed)."""
        done = set()
        folder = self.path / CHUNKS
        if not folder.is_dir():
            return done
        for p in folder.iterdir():
            if p.name.startswith(".") and p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)
            elif p.name.startswith("chunk-") and p.suffix == ".parquet":
                done.add(int(p.stem.removeprefix("chunk-")))
        return done

    def write_chunk(
        self, i: int, columns: dict[str, np.ndarray], trajectories: dict[str, np.ndarray] | None = None
    ) -> None:
        """Chunk i's rows (and trajectories): the rows file last, as it marks the chunk done."""
        if trajectories is not None:
            (self.path / TRAJECTORY_CHUNKS).mkdir(exist_ok=True)
            write_parquet(trajectories, self.path / TRAJECTORY_CHUNKS / f"chunk-{i:05d}.parquet")
        write_parquet(columns, self.chunk_path(i))

    def merge(self) -> None:
        """runs.parquet (ordered by run) and trajectories.parquet (by run, time) from the chunks, which are
        removed once the merged files are in place."""
        parts = [(CHUNKS, self.runs_path, "run"), (TRAJECTORY_CHUNKS, self.path / TRAJECTORIES, "run, t_s")]
        done = []
        for folder, target, order in parts:
            files = sorted((self.path / folder).glob("chunk-*.parquet"))
            if not files:
                continue
            listing = ", ".join(f"'{_sql_path(p)}'" for p in files)
            with atomic_path(target) as tmp:
                con = duckdb.connect()
                try:
                    con.execute(
                        f"COPY (SELECT * FROM read_parquet([{listing}]) ORDER BY {order}) "
                        f"TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd)"
                    )
                finally:
                    con.close()
            done.append((folder, files))
        for folder, files in done:
            for p in files:
                p.unlink()
            with contextlib.suppress(OSError):
                (self.path / folder).rmdir()

    def rows(self) -> pa.Table:
        """Every run written so far (merged results, else the chunks), ordered by run."""
        if self.runs_path.exists():
            files = [self.runs_path]
        else:
            files = sorted((self.path / CHUNKS).glob("chunk-*.parquet"))
        if not files:
            raise InputError(f"{self.path}: no runs written yet")
        listing = ", ".join(f"'{_sql_path(p)}'" for p in files)
        con = duckdb.connect()
        try:
            return con.sql(f"SELECT * FROM read_parquet([{listing}]) ORDER BY run").to_arrow_table()
        finally:
            con.close()

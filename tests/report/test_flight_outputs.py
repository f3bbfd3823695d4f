"""The per-flight outputs of `touchdown fly --out DIR`: trajectory Parquet and summary PNG."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from matplotlib.figure import Figure

from touchdown.report.flight import plot_flight, write_trajectory_parquet

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def descent_columns(n: int = 601) -> dict[str, np.ndarray]:
    """A synthetic 300 s descent from 15 km at 0.5 s steps, with the quirks a real flight has."""
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 300.0, n)
    alt = 15_000.0 * (1.0 - t / 300.0) ** 2
    vz = -100.0 * (1.0 - t / 300.0)
    vh = 1_500.0 * np.clip(1.0 - t / 240.0, 0.0, None)
    fsw_on = t >= 10.0
    nav_alt = np.where(fsw_on, alt + 40.0 * np.exp(-t / 60.0), np.nan)
    altimeter = np.where((t >= 60.0) & (t % 2.0 == 0.0), alt + rng.normal(0.0, 5.0, n), np.nan)
    accepted = np.isfinite(altimeter)
    for i in np.searchsorted(t, [120.0, 180.0, 250.0]):  # three outliers the gate rejects
        altimeter[i] = alt[i] + 2_500.0
        accepted[i] = False
    thrust = np.where(t < 20.0, 0.0, np.where(t < 200.0, 0.95, 0.55))
    prop = 600.0 - np.cumsum(thrust) * 0.8
    phase = np.where(t < 20.0, "coast", np.where(t < 200.0, "braking", "terminal"))
    return {
        "t_s": t,
        "step": np.arange(n, dtype=np.int64),
        "phase": phase,
        "true_altitude_m": alt,
        "nav_altitude_m": nav_alt,
        "altimeter_height_m": altimeter,
        "altimeter_accepted": accepted,
        "true_vertical_speed_mps": vz,
        "nav_vertical_speed_mps": np.where(fsw_on, vz + 0.5, np.nan),
        "true_horizontal_speed_mps": vh,
        "nav_horizontal_speed_mps": np.where(fsw_on, vh - 1.0, np.nan),
        "thrust_fraction": thrust,
        "propellant_kg": prop,
        "nav_propellant_kg": np.where(fsw_on, prop + 3.0, np.nan),
    }


EVENTS = [
    {"t_s": 10.0, "name": "fsw_start"},
    {"t_s": 20.0, "name": "ignition"},
    {"t_s": 200.0, "name": "terminal_descent"},
    {"t_s": 200.6, "name": "altimeter_lock"},  # within 1 s of the previous one: line, no label
    {"t_s": 299.5, "name": "touchdown", "speed_mps": 1.2},
]


def check_png(path: Path) -> tuple[int, int]:
    """Width and height of a valid PNG (IHDR), cross-checked by PIL when it is installed."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    try:
        from PIL import Image
    except ImportError:
        return width, height
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size == (width, height)
    return width, height


def test_parquet_round_trip(tmp_path: Path) -> None:
    cols = descent_columns()
    path = tmp_path / "trajectory.parquet"
    write_trajectory_parquet(cols, path, metadata={"scenario": "m1-atlas", "seed": "2025"})

    table = pq.read_table(path)
    assert table.num_rows == len(cols["t_s"])
    assert table.column_names == list(cols)
    assert table.schema.field("t_s").type == pa.float64()
    assert table.schema.field("step").type == pa.int64()
    assert table.schema.field("altimeter_accepted").type == pa.bool_()
    assert table.schema.field("phase").type == pa.string()
    for name, expected in cols.items():
        got = table.column(name).to_numpy()
        if expected.dtype.kind == "f":
            assert got.dtype == np.float64
            np.testing.assert_array_equal(got, expected)  # NaN in the same places, values bit-equal
            assert table.column(name).null_count == 0
        elif expected.dtype.kind == "U":
            assert list(got) == list(expected)
        else:
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)
    meta = table.schema.metadata
    assert meta[b"scenario"] == b"m1-atlas"
    assert meta[b"seed"] == b"2025"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trajectory.parquet"]


def test_parquet_without_metadata(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    write_trajectory_parquet({"t_s": np.arange(3.0)}, path)
    assert pq.read_table(path).column("t_s").to_pylist() == [0.0, 1.0, 2.0]


def test_parquet_mismatched_lengths_write_nothing(tmp_path: Path) -> None:
    cols = {"t_s": np.arange(5.0), "true_altitude_m": np.arange(4.0)}
    with pytest.raises(ValueError, match="same length"):
        write_trajectory_parquet(cols, tmp_path / "trajectory.parquet")
    assert list(tmp_path.iterdir()) == []


def test_parquet_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    def broken_write(table, where, **kwargs) -> None:
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_trajectory_parquet(descent_columns(), tmp_path / "trajectory.parquet")
    assert list(tmp_path.iterdir()) == []


def test_plot_flight_writes_png(tmp_path: Path) -> None:
    path = tmp_path / "flight.png"
    plot_flight(descent_columns(), EVENTS, path, "m1-atlas · seed 2025 · landed")
    width, height = check_png(path)
    assert (width, height) == pytest.approx((11 * 110, 10 * 110), abs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flight.png"]


def test_plot_flight_optional_columns_missing(tmp_path: Path) -> None:
    cols = descent_columns()
    keep = ("t_s", "true_altitude_m", "true_vertical_speed_mps", "thrust_fraction")
    path = tmp_path / "flight.png"
    plot_flight({k: cols[k] for k in keep}, [], path, "truth only")
    check_png(path)


def test_plot_flight_mismatched_lengths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="same length"):
        plot_flight({"t_s": np.arange(5.0), "thrust_fraction": np.zeros(4)}, [], tmp_path / "f.png", "x")
    assert list(tmp_path.iterdir()) == []


def test_plot_failure_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    def broken_savefig(self, fname, **kwargs) -> None:
        Path(fname).write_bytes(PNG_SIGNATURE + b"half a picture")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        plot_flight(descent_columns(), EVENTS, tmp_path / "flight.png", "doomed")
    assert list(tmp_path.iterdir()) == []

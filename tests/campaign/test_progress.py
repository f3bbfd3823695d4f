"""A campaign's progress reports: chunks written, and the flights underway inside a chunk."""

from __future__ import annotations

from pathlib import Path

import pytest

from touchdown.campaign import execute
from touchdown.campaign.runner import Throttled
from touchdown.scenario.loader import load_scenario

SCENARIO = str(Path(__file__).parent / "data" / "drop-campaign.toml")


def fly(tmp_path: Path, workers: int, chunk: int, runs: int = 6) -> list[tuple]:
    """Every report of a campaign of the drop scenario: (done, landed, total, finished, flying, t_s)."""
    loaded = load_scenario(SCENARIO)
    reports: list[tuple] = []

    def progress(r: execute.ProgressReport) -> None:
        reports.append((r.done, r.landed, r.total, r.finished, r.flying, r.t_s))

    cdir = execute.create(
        loaded, tmp_path / "c", runs=runs, seed=3, sampler="random", chunk_size=chunk, batch_size=None,
        data_dir=None,
    )  # fmt: skip
    summary = execute.run(cdir, workers=workers, progress=progress)
    assert summary["runs"] == runs
    return reports


def test_in_process_reports_the_flights_underway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(execute, "Throttled", lambda report, period_s: Throttled(report, 0.0))  # every step
    reports = fly(tmp_path, workers=1, chunk=3)
    assert reports[0] == (0, 0, 6, 0, 0, None)  # before anything flies
    underway = [r for r in reports if r[4] > 0]
    assert underway, "no report from inside a chunk"
    first_chunk = [r for r in underway if r[0] == 0]
    times = [r[5] for r in first_chunk]
    assert times == sorted(times) and times[0] > 0.0  # its simulated time advances
    assert all(r[3] + r[4] <= 3 for r in first_chunk)  # finished + flying within the chunk's 3 runs
    assert any(r[3] > 0 for r in first_chunk)  # touchdowns show before the chunk is written
    assert all(r[0] + r[3] <= r[2] for r in reports)  # never more runs than the campaign's
    assert [r[0] for r in reports if r[4] == 0 and r[5] is None][-2:] == [3, 6]  # each chunk written
    assert reports[-1][:5] == (6, reports[-1][1], 6, 0, 0)


def test_dask_reports_end_with_every_run(tmp_path: Path):
    reports = fly(tmp_path, workers=2, chunk=3)
    done = [r[0] for r in reports]
    assert done == sorted(done) and done[-1] == 6
    assert all(r[0] + r[3] <= r[2] for r in reports)
    assert reports[-1][3:] == (0, 0, None)


def test_reports_carry_the_flight_softwares_expected_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Each batch's report tells when its flight software expects the last touchdown: known from the
    first ticks (the vertical descent's schedule), and close to when the runs land."""
    monkeypatch.setattr(execute, "Throttled", lambda report, period_s: Throttled(report, 0.0))  # every step
    loaded = load_scenario(SCENARIO)
    seen: list[tuple[float, float]] = []

    def progress(r: execute.ProgressReport) -> None:
        if r.t_s is not None and r.t_end_s is not None:
            seen.append((r.t_s, r.t_end_s))

    cdir = execute.create(
        loaded, tmp_path / "c", runs=3, seed=3, sampler="random", chunk_size=3, batch_size=None, data_dir=None
    )
    execute.run(cdir, workers=1, progress=progress)
    last = float(cdir.rows().column("t_end_s").to_numpy().max())
    assert seen and seen[0][0] < 5.0  # an estimate from the start
    assert all(t_end >= t for t, t_end in seen)
    halfway = [t_end for t, t_end in seen if t >= 0.5 * last]
    assert abs(halfway[0] - last) < 0.15 * last


def test_eta_from_the_flights_underway_then_from_the_runs_done():
    """One round in the air: the simulated time's rate and the expected end give the ETA; runs queued add
    rounds; once chunks are written with runs still queued, the rate of runs done takes over."""
    from touchdown.commands.campaign import _Eta

    clock = [0.0]
    eta = _Eta(lambda: clock[0])
    report = execute.ProgressReport
    assert eta(report(0, 0, 100, flying=100, t_s=0.0, t_end_s=900.0)) is None  # no rate yet
    clock[0] = 10.0  # 100 simulated seconds in 10 s of wall time: 10 s a second
    assert eta(report(0, 0, 100, flying=100, t_s=100.0, t_end_s=900.0)) == pytest.approx(80.0)
    clock[0] = 20.0  # two rounds of 50 runs: the rest of this one, then a whole one
    eta = _Eta(lambda: clock[0])
    eta(report(0, 0, 100, flying=50, t_s=0.0, t_end_s=900.0))
    clock[0] = 30.0
    assert eta(report(0, 0, 100, flying=50, t_s=100.0, t_end_s=900.0)) == pytest.approx(80.0 + 90.0)
    clock[0] = 0.0
    eta = _Eta(lambda: clock[0])
    clock[0] = 60.0  # 50 runs done in 60 s, 50 queued: 60 s more
    assert eta(report(50, 40, 100)) == pytest.approx(60.0)
    assert eta(report(100, 80, 100)) == 0.0  # all done


def test_throttled_reports_at_most_once_a_period(monkeypatch: pytest.MonkeyPatch):
    now = [100.0]
    monkeypatch.setattr("touchdown.campaign.runner.time.monotonic", lambda: now[0])
    seen: list[tuple] = []
    report = Throttled(lambda *a: seen.append(a), 1.0)
    for k in range(10):  # 0.25 s apart: the first, then one a second
        report(k, 10 - k, 0.1 * k)
        now[0] += 0.25
    assert [s[0] for s in seen] == [0, 4, 8]

"""``touchdown campaign`` end to end: summary, determinism across workers/chunks/batches, resume after a kill,
a real Dask scheduler and workers, re-flying a run, and bad input."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from touchdown.campaign import workers as local_workers
from touchdown.campaign.store import CampaignDir

SCENARIO = str(Path(__file__).parent / "data" / "drop-campaign.toml")
N = 12


def rows(path: Path) -> dict[str, list]:
    """Every column of a campaign's results; floats as their bit patterns (NaN == NaN, −0 ≠ +0)."""
    table = CampaignDir(path).rows()
    out = {}
    for name in table.column_names:
        v = table.column(name).to_numpy(zero_copy_only=False)
        out[name] = v.view(np.uint64).tolist() if v.dtype == np.float64 else v.tolist()
    return out


def touchdown_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "touchdown", *args]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The campaign flown in this process, all runs in one batch."""
    from touchdown.cli import main

    out = tmp_path_factory.mktemp("ref") / "c"
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "campaign",
                SCENARIO,
                "-n",
                str(N),
                "--seed",
                "3",
                "--workers",
                "1",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
    assert exit_.value.code == 0
    return out


def test_summary_files_and_manifest(reference: Path, cli):
    code, stdout, _ = cli(["campaign", "--resume", str(reference), "--json", "--no-progress"])
    assert code == 0
    s = json.loads(stdout)
    assert s["runs"] == N
    assert sum(s["outcomes"].values()) == N
    assert s["success_probability"] == s["outcomes"].get("landed", 0) / N
    lo, hi = s["ci95"]
    assert lo <= s["success_probability"] <= hi
    assert set(s["touchdown"]) >= {
        "vertical_speed_mps",
        "horizontal_speed_mps",
        "miss_m",
        "propellant_remaining_kg",
    }
    assert s["sensitivity"]["method"].startswith("Monte Carlo filtering")
    ranked = {r["parameter"] for r in s["sensitivity"]["ranking"]}
    assert ranked <= {
        "faults.0.present",
        "vehicle.propellant_kg",
        *(f"initial.{a}" for a in ("east_m", "north_m", "up_m", "east_mps", "north_mps", "up_mps")),
    }
    assert {"wall_s", "runs_per_s"} <= set(s)
    m = json.loads((reference / "manifest.json").read_text())
    assert m["root_seed"] == 3
    assert m["runs"] == N
    assert m["status"] == "complete"
    assert m["version"]
    assert m["git_revision"]
    assert "[campaign]" in m["scenario_text"]
    r = rows(reference)
    assert r["run"] == list(range(N))
    assert set(r["outcome"]) <= {"landed", "hard_landing", "tipped_over", "crashed", "in_flight"}
    assert len(set(r["outcome"])) > 1  # the thrust loss and the short propellant loads make failures


def test_results_are_bit_identical_across_chunks_and_batches(reference: Path, tmp_path: Path, cli):
    out = tmp_path / "c"
    args = ["campaign", SCENARIO, "-n", str(N), "--seed", "3", "--workers", "1", "--no-progress"]
    code, _, err = cli([*args, "--out", str(out), "--chunk-size", "5", "--batch-size", "2"])
    assert code == 0, err
    assert rows(out) == rows(reference)


def test_two_workers_on_a_local_cluster_give_the_same_rows(reference: Path, tmp_path: Path, cli):
    out = tmp_path / "c"
    args = ["campaign", SCENARIO, "-n", str(N), "--seed", "3", "--workers", "2", "--chunk-size", "4"]
    code, _, err = cli([*args, "--out", str(out), "--no-progress"])
    assert code == 0, err
    assert rows(out) == rows(reference)


def test_a_killed_campaign_resumes_without_losing_or_repeating_a_run(reference: Path, tmp_path: Path, cli):
    out = tmp_path / "c"
    args = ["campaign", SCENARIO, "-n", str(N), "--seed", "3", "--workers", "1", "--chunk-size", "2"]
    proc = subprocess.Popen(
        touchdown_cmd(*args, "--out", str(out), "--no-progress"), stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 300
        while not list((out / "chunks").glob("chunk-*.parquet")) and time.monotonic() < deadline:
            assert proc.poll() is None, "the campaign ended before it could be killed"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = CampaignDir(out).done_chunks()
    assert 0 < len(done) < 6
    assert not (out / "runs.parquet").exists()
    code, _, err = cli(["campaign", "--resume", str(out), "--no-progress"])
    assert code == 0, err
    assert rows(out) == rows(reference)
    assert not (out / "chunks").exists()


@pytest.fixture
def dask_cluster(tmp_path: Path):
    """A Dask scheduler and a two-process worker, started as separate processes on 127.0.0.1."""
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    ]
    deadline = time.monotonic() + 60
    while not sched_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    address = json.loads(sched_file.read_text())["address"]
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                address,
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    )
    from dask.distributed import Client

    with Client(address, timeout="60s") as c:
        c.wait_for_workers(2, timeout=120)
    yield address, procs[1]
    for p in procs:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def test_a_campaign_runs_on_a_dask_scheduler_and_survives_a_killed_worker(
    reference: Path, tmp_path: Path, dask_cluster
):
    import psutil

    address, worker = dask_cluster
    out = tmp_path / "c"
    args = ["campaign", SCENARIO, "-n", str(N), "--seed", "3", "--scheduler", address, "--chunk-size", "2"]
    proc = subprocess.Popen(
        touchdown_cmd(*args, "--out", str(out), "--no-progress", "--json"), stdout=subprocess.PIPE
    )
    killed = False
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if not killed and list((out / "chunks").glob("chunk-*.parquet")):
            children = [
                c for c in psutil.Process(worker.pid).children(recursive=True) if "python" in c.name()
            ]
            assert children, "no worker process to kill"
            children[-1].kill()  # a worker dies mid-campaign: its chunk must be flown again elsewhere
            killed = True
        time.sleep(0.05)
    stdout, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0
    assert killed
    assert json.loads(stdout)["runs"] == N
    assert rows(out) == rows(reference)


@pytest.mark.skipif(not local_workers.available(), reason="no forkserver on this platform")
def test_local_workers_are_forks_of_one_server_and_a_killed_one_is_replaced(reference: Path, tmp_path: Path):
    """The embedded cluster's workers are forked from the server the command starts (not spawned afresh);
    one killed mid-campaign is started again the same way and its chunk flown again: the same rows."""
    import psutil

    out = tmp_path / "c"
    args = ["campaign", SCENARIO, "-n", str(N), "--seed", "3", "--workers", "2", "--chunk-size", "2"]
    proc = subprocess.Popen(touchdown_cmd(*args, "--out", str(out), "--no-progress"), stdout=subprocess.PIPE)
    me = psutil.Process(proc.pid)

    def workers() -> list[psutil.Process]:
        """The campaign's worker processes: children of its fork server."""
        out = []
        for child in me.children():
            with contextlib.suppress(psutil.Error):
                if "forkserver" in " ".join(child.cmdline()):
                    out += child.children()
        return out

    killed, seen = False, set()
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        now = workers()
        seen |= {w.pid for w in now}
        if not killed and now and list((out / "chunks").glob("chunk-*.parquet")):
            now[-1].kill()  # a worker dies mid-campaign: its nanny forks a new one, its chunk flies again
            killed = True
        time.sleep(0.05)
    proc.communicate(timeout=300)
    assert proc.returncode == 0
    assert killed and len(seen) >= 3  # two workers forked at the start, one more after the kill
    assert rows(out) == rows(reference)


def test_refly_reproduces_a_run_exactly(reference: Path, tmp_path: Path, cli):
    r = rows(reference)
    k = next(i for i, o in enumerate(r["outcome"]) if o != "landed")  # inspect a failure
    code, stdout, err = cli(
        ["fly", "--from", str(reference), "--run", str(k), "--json", "--out", str(tmp_path / "f")]
    )
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["campaign"]["run"] == k
    assert doc["campaign"]["matches_row"] is True
    assert doc["outcome"] == r["outcome"][k]
    assert np.float64(doc["touchdown"]["vertical_speed_mps"]).view(np.uint64) == r["vertical_speed_mps"][k]
    assert (tmp_path / "f" / "trajectory.parquet").is_file()
    assert (tmp_path / "f" / "flight.png").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "0"], "--workers must be ≥ 1"),
        (["--sampler", "grid"], "--sampler 'grid' unknown"),
        (
            ["--set", "campaign.dispersions.1.field=vehicle.propelant_kg"],
            "unknown field (did you mean 'propellant_kg'?)",
        ),
        (
            ["--set", "campaign.dispersions.1.unit=m"],
            "unit 'm' is a length, but 'vehicle.propellant_kg' is a mass",
        ),
        (["--set", "campaign.dispersions.0.field=faults.3"], "the scenario has 1 fault(s)"),
        (["--set", "campaign.dispersions.1.low=-50"], "must be > 0"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path: Path, cli, argv, message):
    out = tmp_path / "c"
    code, _, err = cli(["campaign", SCENARIO, "-n", "4", "--out", str(out), "--no-progress", *argv])
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_an_existing_campaign_is_not_overwritten_and_resume_needs_one(reference: Path, tmp_path: Path, cli):
    before = (reference / "runs.parquet").read_bytes()
    code, _, err = cli(["campaign", SCENARIO, "-n", "4", "--out", str(reference), "--no-progress"])
    assert code == 2
    assert "already holds a campaign" in err
    assert (reference / "runs.parquet").read_bytes() == before
    code, _, err = cli(["campaign", "--resume", str(tmp_path), "--no-progress"])
    assert code == 2
    assert "no campaign here" in err
    code, _, err = cli(["fly", "--from", str(reference), "--run", str(N)])
    assert code == 2
    assert f"runs 0 … {N - 1}" in err


def test_trajectories_when_asked_match_the_reflown_run(tmp_path: Path, cli):
    import duckdb

    out = tmp_path / "c"
    args = ["campaign", SCENARIO, "-n", "4", "--seed", "3", "--workers", "1", "--batch-size", "4"]
    code, _, err = cli([*args, "--out", str(out), "--no-progress", "--trajectories", "2.0"])
    assert code == 0, err
    tracks = duckdb.sql(f"SELECT * FROM '{out / 'trajectories.parquet'}' ORDER BY run, t_s").to_arrow_table()
    assert sorted(set(tracks.column("run").to_pylist())) == [0, 1, 2, 3]
    t_end = rows(out)["t_end_s"]
    for k in range(4):  # decimated to 2 s, nothing after the run's own touchdown
        run_t = zip(tracks.column("run").to_pylist(), tracks.column("t_s").to_pylist(), strict=True)
        t = [v for r, v in run_t if r == k]
        assert t[0] == 0.0
        assert all(b - a == pytest.approx(2.0) for a, b in itertools.pairwise(t))
        assert t[-1] <= np.uint64(t_end[k]).view(np.float64)
    code, _, err = cli(["fly", "--from", str(out), "--run", "2", "--out", str(tmp_path / "f"), "--json"])
    assert code == 0, err
    alone = duckdb.sql(
        f"SELECT t_s, true_altitude_m, nav_altitude_m FROM '{tmp_path / 'f' / 'trajectory.parquet'}'"
    )
    alone_rows = {r[0]: r[1:] for r in alone.fetchall()}
    for r, t, h, nh in zip(
        *(tracks.column(c).to_pylist() for c in ("run", "t_s", "true_altitude_m", "nav_altitude_m")),
        strict=True,
    ):
        if r == 2:
            assert alone_rows[t] == (h, nh)  # the same bits, flown in a batch of 4 or alone
    code, _, err = cli([*args, "--out", str(tmp_path / "bad"), "--no-progress", "--trajectories", "0.07"])
    assert code == 2
    assert "whole multiple of the step" in err


def test_a_dispersed_field_that_rebuilds_the_scenario_groups_runs_and_stays_deterministic(
    tmp_path: Path, cli
):
    """tau_vertical_s is not carried per run: each value rebuilds the scenario (equal ones share a batch)."""
    text = Path(SCENARIO).read_text(encoding="utf-8")
    text += '\n[[campaign.dispersions]]\nfield = "fsw.guidance.braking.tau_vertical_s"\ndist = "choice"\n'
    text += "values = [1.5, 3.0]\n"
    scenario = tmp_path / "grouped.toml"
    scenario.write_text(text, encoding="utf-8")
    base = ["campaign", str(scenario), "-n", "6", "--seed", "1", "--workers", "1", "--no-progress"]
    code, _, err = cli([*base, "--out", str(tmp_path / "a")])
    assert code == 0, err
    code, _, err = cli([*base, "--out", str(tmp_path / "b"), "--chunk-size", "4", "--batch-size", "1"])
    assert code == 0, err
    a = rows(tmp_path / "a")
    assert a == rows(tmp_path / "b")
    taus = a["fsw.guidance.braking.tau_vertical_s"]
    assert {np.uint64(v).view(np.float64) for v in taus} == {1.5, 3.0}
    k = 5
    code, stdout, err = cli(["fly", "--from", str(tmp_path / "a"), "--run", str(k), "--json"])
    assert code == 0, err
    assert json.loads(stdout)["campaign"]["matches_row"] is True

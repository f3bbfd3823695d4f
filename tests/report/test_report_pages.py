"""`touchdown report DIR`: the flight and campaign pages hold what the issue asks, self-contained; bad
directories are one line and exit 2; the map projection and the 99 % ellipse match their closed forms."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from touchdown.moon.constants import R_MOON
from touchdown.moon.frames import surface_distance
from touchdown.report.terrain_map import error_ellipse, from_map, to_map

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def embedded_pngs(page: str) -> dict[str, bytes]:
    """The figure id → PNG bytes of every embedded figure."""
    found = re.findall(r'<figure id="([^"]+)"><img src="data:image/png;base64,([^"]+)"', page)
    return {fid: base64.b64decode(data) for fid, data in found}


def assert_self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page must not load anything"


def test_flight_report_has_every_part(flight_dir: Path):
    page = (flight_dir / "report.html").read_text()
    doc = json.loads((flight_dir / "flight.json").read_text())
    assert_self_contained(page)
    pngs = embedded_pngs(page)
    assert {"fig-timeline", "fig-ground-track"} <= set(pngs)
    assert all(p.startswith(PNG_SIGNATURE) and len(p) > 20_000 for p in pngs.values())
    # the verdict, with the measured figures against the vehicle's limits (REFERENCE §5 defaults)
    assert f"id='verdict'>{doc['outcome'].upper().replace('_', ' ')}<" in page
    verdict = page[page.index('id="verdict-table"') :]
    assert "≤ 4 m/s" in verdict and "≤ 2 m/s" in verdict and "≤ 10 deg" in verdict
    assert f"{doc['touchdown']['vertical_speed_mps']:.2f} m/s" in verdict
    for e in doc["events"]:
        assert e["name"] in page[page.index('id="events-table"') :]
    # the record: the scenario file verbatim (escaped), seed, version and git revision
    assert "[campaign.initial_state]" in page and doc["git_revision"] in page
    assert f"touchdown fly {Path(doc['source'])} --seed 1" in page


def test_campaign_report_has_every_part(campaign_dir: Path):
    page = (campaign_dir / "report.html").read_text()
    summary = json.loads((campaign_dir / "summary.json").read_text())
    assert_self_contained(page)
    pngs = embedded_pngs(page)
    want = {"fig-convergence", "fig-dispersion", "fig-distributions", "fig-sensitivity", "fig-trajectories"}
    assert want <= set(pngs)
    assert all(p.startswith(PNG_SIGNATURE) and len(p) > 20_000 for p in pngs.values())
    p, (lo, hi) = summary["success_probability"], summary["ci95"]
    assert f"lands in {100 * p:.1f} % of runs (95 % interval {100 * lo:.1f}–{100 * hi:.1f} %)" in page
    outcomes = page[page.index('id="outcomes-table"') :]
    for name, count in summary["outcomes"].items():
        assert f'<td>{name}</td><td class="num">{count}</td>' in outcomes
    top = summary["sensitivity"]["ranking"][0]["parameter"]
    assert top in page[page.index('id="sensitivity-table"') :]
    # the worst runs: the most severe outcomes, each with the exact command that re-flies it
    rows = pq.read_table(campaign_dir / "runs.parquet").to_pydict()
    worst = page[page.index('id="worst-runs-table"') :]
    commands = re.findall(r"touchdown fly --from (\S+) --run (\d+)", worst)
    assert len(commands) == min(10, summary["runs"])
    assert {Path(d) for d, _ in commands} == {campaign_dir.resolve()}
    outcome = dict(zip(rows["run"], rows["outcome"], strict=True))
    severity = {"crashed": 4, "tipped_over": 3, "in_flight": 2, "hard_landing": 1, "landed": 0}
    listed = [severity[outcome[int(k)]] for _, k in commands]
    assert listed == sorted(listed, reverse=True)
    assert max(listed) == max(severity[o] for o in rows["outcome"])
    assert (
        "[campaign.initial_state]" in page
        and json.loads((campaign_dir / "manifest.json").read_text())["git_revision"] in page
    )


def test_report_command_rewrites_the_page_and_bad_directories_are_one_line(cli, campaign_dir: Path, tmp_path):
    code, out, err = cli(["report", str(campaign_dir)])
    assert code == 0 and out.strip() == f"report: {campaign_dir / 'report.html'}" and err == ""
    assert not list(campaign_dir.glob(".*.tmp"))

    code, out, err = cli(["report", str(tmp_path)])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "neither a flight (flight.json) nor a campaign (manifest.json)" in err

    broken = tmp_path / "broken"
    shutil.copytree(campaign_dir, broken)
    (broken / "report.html").unlink()
    (broken / "runs.parquet").write_bytes(b"PAR1 not really")
    code, out, err = cli(["report", str(broken)])
    assert code == 2 and err.count("\n") == 1 and "unreadable results" in err and "runs.parquet" in err
    assert not (broken / "report.html").exists() and not list(broken.glob(".*.tmp"))


def test_map_projection_keeps_distances_from_the_target():
    """Azimuthal equidistant: the map distance from the target is the great-circle distance, and north
    of the target is +north; from_map inverts to_map."""
    lat0, lon0 = 60.5, -4.6
    lat = np.array([60.5, 61.0, 60.5, 85.7, 59.0, 47.5])
    lon = np.array([-4.6, -4.6, -3.0, -4.6, 10.0, 44.4])
    e, n = to_map(lat, lon, lat0, lon0)
    d = surface_distance(np.radians(lat), np.radians(lon), math.radians(lat0), math.radians(lon0))
    np.testing.assert_allclose(np.hypot(e, n), d, rtol=1e-12, atol=1e-6)
    assert e[0] == pytest.approx(0.0, abs=1e-6) and n[1] == pytest.approx(R_MOON * math.radians(0.5))
    assert e[1] == pytest.approx(0.0, abs=1e-6) and e[2] > 0 and n[3] > 0
    la, lo = from_map(e, n, lat0, lon0)
    np.testing.assert_allclose(np.degrees(la), lat, atol=1e-10)
    np.testing.assert_allclose(np.degrees(lo), lon, atol=1e-10)


def test_99_percent_ellipse_matches_the_chi_square_closed_form():
    """For N(0, diag(σe², σn²)) the 99 % ellipse has semi-axes √(−2 ln 0.01)·σ = 3.035 σ, and holds 99 %
    of fresh draws."""
    rng = np.random.default_rng(5)
    e, n = rng.normal(0.0, 30.0, 200_000), rng.normal(0.0, 80.0, 200_000)
    ex, ny = error_ellipse(e, n, 0.99, points=721)
    k = math.sqrt(-2.0 * math.log(0.01))
    assert np.max(np.abs(ex)) == pytest.approx(k * 30.0, rel=0.01)
    assert np.max(np.abs(ny)) == pytest.approx(k * 80.0, rel=0.01)
    e2, n2 = rng.normal(0.0, 30.0, 100_000), rng.normal(0.0, 80.0, 100_000)
    inside = (e2 / (k * 30.0)) ** 2 + (n2 / (k * 80.0)) ** 2 <= 1.0
    assert inside.mean() == pytest.approx(0.99, abs=0.002)


def test_terrain_map_shades_the_real_atlas_crater(shared_data_dir: Path):
    """Over LOLA, the map around Atlas (REFERENCE §3.2) spans the crater's relief; flat ground has none."""
    from matplotlib.figure import Figure

    from touchdown.moon.terrain.base import FlatTerrain
    from touchdown.moon.terrain.loader import load_terrain
    from touchdown.report.terrain_map import draw_terrain

    atlas = load_terrain("ldem_4", data_dir=str(shared_data_dir), detail=False)
    ax = Figure().subplots()
    m = draw_terrain(ax, atlas, 47.5, 44.4, (-60e3, 60e3, -60e3, 60e3), samples=120)
    lo, hi = m.norm.vmin, m.norm.vmax
    assert hi - lo > 2.0  # km: Atlas' floor is kilometres below its rim
    assert draw_terrain(Figure().subplots(), FlatTerrain(0.0), 47.5, 44.4, (-1e3, 1e3, -1e3, 1e3)) is None


def test_every_figure_has_axis_labels_with_units_and_a_legend_for_several_series(
    flight_dir: Path, campaign_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    """Each axes of each report figure: x and y labels with a unit in brackets (a shared x axis labelled
    once), and a legend when it draws more than one labelled series."""
    from touchdown.report import html
    from touchdown.report.campaign_page import campaign_page
    from touchdown.report.flight_page import flight_page

    figures: dict[str, object] = {}
    real = html.figure

    def keep(fig, fig_id, caption, dpi=100):
        figures[fig_id] = fig
        return real(fig, fig_id, caption, dpi=30)

    monkeypatch.setattr(html, "figure", keep)
    flight_page(flight_dir)
    campaign_page(campaign_dir)
    assert len(figures) >= 7
    for fig_id, fig in figures.items():
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>":
                assert re.search(r"\[.+\]", ax.get_ylabel()), (fig_id, "colour bar")
                continue
            xlabels = [a.get_xlabel() for a in ax.get_shared_x_axes().get_siblings(ax)]
            assert any(re.search(r"\[.+\]", x) for x in xlabels), (fig_id, "x label", xlabels)
            categorical = fig_id == "fig-sensitivity" or ax.get_title() == "outcome breakdown"
            if not categorical:  # bar charts whose y tick labels name the bars need no y label
                assert re.search(r"\[.+\]", ax.get_ylabel()), (fig_id, "y label", ax.get_ylabel())
            artists = (*ax.lines, *ax.collections, *ax.containers)
            labelled = [a for a in artists if not str(a.get_label()).startswith("_")]
            if len(labelled) > 1:  # its own legend, or one for the whole figure
                assert ax.get_legend() is not None or fig.legends, (fig_id, "legend", labelled)

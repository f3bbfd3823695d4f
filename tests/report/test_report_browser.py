"""Both report kinds rendered in headless Chromium (Debian's ``chromium``, driven by Playwright): no console
errors, every figure decoded and shown, the key parts present; a full-page screenshot of each is kept as a
test artefact under ``test-artifacts/`` (or ``$TOUCHDOWN_ARTIFACTS``), never committed.

``make test`` installs Chromium (``make browser``); without it this test fails and says how to get it,
unless ``TOUCHDOWN_NO_BROWSER=1`` says to skip it on purpose.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = (
        os.environ.get("TOUCHDOWN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if path is None:
        if os.environ.get("TOUCHDOWN_NO_BROWSER") == "1":
            pytest.skip("TOUCHDOWN_NO_BROWSER=1: browser test skipped on purpose")
        pytest.fail(
            "Chromium not found: `make browser` installs Debian's chromium (or set TOUCHDOWN_CHROMIUM)"
        )
    return path


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def artefacts_dir() -> Path:
    d = Path(os.environ.get("TOUCHDOWN_ARTIFACTS", REPO_ROOT / "test-artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def render(browser, report: Path, shot: str) -> tuple[object, list[str]]:
    """Open the report from disk (file://, offline), wait for it, and screenshot the whole page."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(report.resolve().as_uri(), wait_until="load")
    page.screenshot(path=str(artefacts_dir() / shot), full_page=True)
    return page, errors


def figures_shown(page) -> dict[str, list[int]]:
    """figure id → [natural width, natural height, displayed width] of its image."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('figure')].map(f => {
            const img = f.querySelector('img');
            return [f.id, [img.naturalWidth, img.naturalHeight, img.getBoundingClientRect().width]];
        }))"""
    )


def test_flight_report_renders_in_chromium(browser, flight_dir: Path):
    page, errors = render(browser, flight_dir / "report.html", "report-flight.png")
    assert errors == []
    shown = figures_shown(page)
    assert {"fig-timeline", "fig-ground-track"} <= set(shown)
    assert all(w > 500 and h > 300 and shown_w > 300 for w, h, shown_w in shown.values()), shown
    assert page.locator("#verdict").inner_text().strip() in {
        "LANDED",
        "HARD LANDING",
        "CRASHED",
        "TIPPED OVER",
    }
    assert page.locator("#verdict-table tbody tr").count() == 5
    assert page.locator("#events-table tbody tr").count() >= 2
    assert "Scenario file" in page.locator("#record").inner_text()
    page.close()


def test_campaign_report_renders_in_chromium(browser, campaign_dir: Path):
    page, errors = render(browser, campaign_dir / "report.html", "report-campaign.png")
    assert errors == []
    shown = figures_shown(page)
    want = {"fig-convergence", "fig-dispersion", "fig-distributions", "fig-sensitivity", "fig-trajectories"}
    assert want <= set(shown)
    assert all(w > 500 and h > 250 and shown_w > 300 for w, h, shown_w in shown.values()), shown
    assert page.locator("#verdict").inner_text().startswith("lands in ")
    assert page.locator("#worst-runs-table tbody tr").count() == 10
    assert "touchdown fly --from " in page.locator("#worst-runs-table").inner_text()
    assert "git_revision" in page.locator("#record").inner_text()
    page.close()

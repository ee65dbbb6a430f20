"""The report as a person sees it: rendered by headless Chromium (``make setup-browser``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DEMO = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"
#: the demo's analyses (discovery, predictive, early response, mediation, panel, mechanism),
#: smaller: one model, one repeat, few permutations and bootstraps
FAST = [
    "models.models=[enet]", "models.n_repeats=1", "models.n_permutations=5",
    "models.n_bootstraps=50", "predictive.n_permutations=5", "mediation.n_bootstraps=20",
    "backend.n_jobs=1",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    """A real run of the demo config on a small simulated trial (all of its analyses)."""
    from biomarkers.datasets import simulate_trial

    root = tmp_path_factory.mktemp("demo_run")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate_trial(root / "data", n_subjects=60, seed=0, cells_per_sample=30, tenx_samples=0)
    config = DEMO.read_text(encoding="utf-8").replace("../data/simulated/", "data/")
    (root / "demo.yaml").write_text(config.replace("output: ../runs", "output: runs"))
    args = [sys.executable, "-m", "pipelines.cli", "run", "demo.yaml", "--quiet"]
    for item in FAST:
        args += ["--set", item]
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=1500, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(done.stdout.strip().splitlines()[-1])


def _open(report: Path, screenshot: Path) -> dict:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed: run `make setup-browser`")
    sync_api = pytest.importorskip("playwright.sync_api", reason="run `make setup-browser`")
    seen: dict = {"errors": [], "requests": []}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
        page.on("request", lambda req: seen["requests"].append(req.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        seen["n_images"] = page.evaluate("document.images.length")
        seen["broken"] = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.alt)"
        )
        seen["first_section"] = page.evaluate("document.querySelector('main section').id")
        seen["summary"] = page.inner_text("section#summary")
        seen["pre"] = page.evaluate("document.querySelectorAll('pre').length")
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return seen


def test_demo_report_in_a_browser_summary_first_images_load_no_errors(demo_run):
    report = demo_run / "report.html"
    screenshot = demo_run / "report_screenshot.png"
    seen = _open(report, screenshot)
    assert seen["first_section"] == "summary"
    for part in ("The question", "The answers", "Limitations", "Next step", "Discovery:"):
        assert part in seen["summary"], part
    assert seen["n_images"] >= 10
    assert seen["broken"] == []
    assert seen["errors"] == []
    assert seen["pre"] == 0  # the panel card is HTML, not raw markdown
    assert all(url.startswith(("file:", "data:")) for url in seen["requests"]), seen["requests"]
    assert screenshot.stat().st_size > 50_000
    html = report.read_text(encoding="utf-8")
    assert "<!--status-banner--><!--/status-banner-->" in html  # a complete run: no banner
    assert re.search(r"status <!--status-footer--><b>complete</b>", html)


def test_failed_run_report_shows_its_banner_in_a_browser(fake_run, tmp_path):
    import json

    from biomarkers.report import write_report

    manifest = json.loads((fake_run / "manifest.json").read_text())
    (fake_run / "manifest.json").write_text(json.dumps({**manifest, "status": "failed"}))
    seen = _open(write_report(fake_run), fake_run / "report_screenshot.png")
    assert seen["broken"] == []
    assert seen["errors"] == []
    assert seen["first_section"] == "summary"

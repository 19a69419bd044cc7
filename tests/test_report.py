"""`make report`: the seminar as one self-contained HTML page, checked in a real headless browser.

The page is rendered (tools/report.R, as `make report` runs it) from the tiny seminar run that
test_seminar.py uses, then opened in Debian's chromium through selenium and Debian's chromedriver
(nothing is downloaded): every figure decodes and has its caption, the results table has this
run's medians, and the browser logs no error. A screenshot is saved beside the page
(REPORT_SCREENSHOT=path saves a copy there too).
"""
import csv
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, SEMINAR_TINY

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FIGURES = ["01-images", "02-history", "03-supervised-150", "04-rotations", "04-pretext-history", "06-comparison"]


def render(out: Path, **env) -> Path:
    """tools/report.R over seminar.R's outputs in `out` (a tiny run: reused, not run again)."""
    run = subprocess.run(["Rscript", "tools/report.R"], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, SEMINAR_OUT=str(out), **SEMINAR_TINY, **env))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "reusing the tiny run" in run.stderr          # the report narrates, it does not retrain
    return out / "seminar-report.html"


@pytest.fixture(scope="module")
def report(seminar_r_tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    shutil.copytree(seminar_r_tiny, out, dirs_exist_ok=True)
    return render(out)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")        # selenium must not look anything up online
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1200,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def test_report_is_one_self_contained_file(report):
    html = report.read_text()
    assert 50_000 < report.stat().st_size < 5_000_000
    assert 'src="data:image/png;base64,' in html                   # figures inside the page
    assert not any(f'src="{name}' in html or f"{name}.png\"" in html for name in FIGURES)
    assert not re.search(r"https?://", html)                      # nothing to fetch (MathJax was, once)


def test_report_in_a_headless_browser(report, browser, seminar_r_tiny):
    browser.get(report.as_uri())
    assert "the seminar, run with selfsup" in browser.title
    figures = browser.execute_script("""
        return Array.from(document.images).map(img => {
          const box = img.closest('.figure, figure');
          const cap = box && box.querySelector('.caption, figcaption');
          return {ok: img.complete && img.naturalWidth > 0, width: img.naturalWidth,
                  caption: cap ? cap.textContent.trim() : ''};
        });""")
    assert len(figures) == len(FIGURES)
    for fig in figures:
        assert fig["ok"] and fig["width"] > 100, fig
        assert fig["caption"].startswith("Step "), fig
    # the results table: this run's medians, as the CSV seminar.R wrote them
    cells = browser.execute_script("""
        const t = Array.from(document.querySelectorAll('table')).find(t => t.textContent.includes('seminar (MNIST)'));
        return t ? Array.from(t.querySelectorAll('tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent.trim())) : null;""")
    with open(seminar_r_tiny / "results-r.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert cells is not None and len(cells) == len(rows)
    for shown, row in zip(cells, rows):
        assert shown[1] == row["step"] and shown[4] == f"{float(row['median']):.4f}"
    assert "Not part of this run" in browser.find_element("tag name", "body").text   # best-pipeline place
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    browser.set_window_size(1200, browser.execute_script("return document.body.scrollHeight") + 400)
    shot = report.with_name("seminar-report.png")
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
    if os.environ.get("REPORT_SCREENSHOT"):
        shutil.copy(shot, os.environ["REPORT_SCREENSHOT"])


def test_report_shows_the_best_pipeline_table_when_given(report, tmp_path):
    table = tmp_path / "best.csv"     # the columns are whatever the comparison writes; shown as they are
    table.write_text("pipeline,labels,median\nexample pipeline row,150,0.5\n")
    html = render(report.parent, BEST_PIPELINE=str(table)).read_text()
    assert "example pipeline row" in html and "Not part of this run" not in html

"""The class overview page in a real headless Chromium, opened from a file:// URL offline.

Like tests/test_report_browser.py for the student report: the page loads without a console
error or a request that is not a local file, runs no script, draws its histogram at a real
size, shows a hostile student name as text, fits a phone's width, and its links reach the
students' reports. Screenshots go to build/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import DESKTOP, PHONE, SCREENSHOTS
from classroom import HOSTILE, SEED

from grader.batch.gradebook import CheckOutcome, Row
from grader.report.overview import render_overview

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]


def _row(
    student: str,
    score: float,
    *,
    failing: tuple[str, ...] = (),
    status: str = "graded",
    message: str = "38 of 38 checks passed",
) -> Row:
    checks = tuple(
        CheckOutcome(
            cid,
            2,
            f"Backward of {cid}",
            "failed" if cid in failing else "passed",
            0.0 if cid in failing else 2.0,
            2.0,
            "Value.__mul__ (backward)" if cid in failing else None,
            "Look at Value.__mul__ (backward). expected #, got #." if cid in failing else "",
        )
        for cid in ("mul", "add", "pow")
    )
    steps = (20.0, score - 80, 20.0, 20.0, 20.0) if status == "graded" else (None,) * 5
    return Row(
        student,
        status,
        score if status == "graded" else 0.0,
        100.0,
        steps,
        SEED,
        score / 40,
        message,
        checks=checks if status == "graded" else (),
    )


@pytest.fixture(scope="module")
def overview_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("overview")
    rows = [
        _row(f"student_{i:02d}", 100.0 if i % 3 else 96.0, failing=() if i % 3 else ("mul", "pow"))
        for i in range(30)
    ]
    rows.append(_row(f"{HOSTILE}_9", 96.0, failing=("mul",)))
    rows.append(
        _row(
            "O'Brien_&_Co_7",
            0.0,
            status="rejected",
            message="<img src=x onerror=alert(1)>.py cannot be graded",
        )
    )
    rows.sort(key=lambda r: r.submission.casefold())
    for row in rows:  # each student's report, for the links to reach
        (out / row.submission).mkdir()
        (out / row.submission / "index.html").write_text(
            f"<!DOCTYPE html><title>{row.submission.replace('<', '')}</title><p>report</p>"
        )
    return render_overview(rows, out)


@pytest.mark.parametrize("label", ["desktop", "phone"])
def test_overview_loads_offline_cleanly_and_fits(
    open_page: Any, overview_page: Path, label: str
) -> None:
    viewport = DESKTOP if label == "desktop" else PHONE
    seen = open_page(overview_page, viewport)
    page, errors, requests = seen.page, seen.errors, seen.requests
    assert errors == []
    assert requests and all(url.startswith("file://") for url in requests)
    assert page.locator("script").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"class-overview-{label}.png"), full_page=True)


def test_histogram_is_drawn_and_labelled(open_page: Any, overview_page: Path) -> None:
    page = open_page(overview_page, DESKTOP).page
    histogram = page.locator("svg.histogram")
    box = histogram.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 120
    assert histogram.locator("rect.bin").count() == 10
    assert "Score distribution" in (histogram.locator("title").text_content() or "")


def test_hostile_text_is_shown_as_text(open_page: Any, overview_page: Path) -> None:
    page = open_page(overview_page, DESKTOP).page
    body = page.locator("body").inner_text()
    assert f"{HOSTILE}_9" in body
    assert "<img src=x onerror=alert(1)>.py cannot be graded" in body
    assert page.locator("img").count() == 0


def test_links_reach_the_student_reports(open_page: Any, overview_page: Path) -> None:
    page = open_page(overview_page, DESKTOP).page
    link = page.locator("#students ~ div a", has_text=f"{HOSTILE}_9").first
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/index.html") and "%3Cscript%3E" in page.url
    assert page.locator("p").inner_text() == "report"


def test_skip_link_comes_first(open_page: Any, overview_page: Path) -> None:
    page = open_page(overview_page, DESKTOP).page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

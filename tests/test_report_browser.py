"""The report in a real headless Chromium, opened from file:// URLs with the network off.

Each page must load without a console error or any request that is not a local file, show
its score, draw its SVG at a real size, put the skip link first in the tab order, fit a
phone's width (figures scroll inside themselves, the page does not), and hide navigation
when printed. Full-page screenshots (desktop and a 390 px phone) go to build/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import DESKTOP, PHONE, SCREENSHOTS
from grading import EXAMPLES, grade
from report_fixtures import (
    chain_result,
    failing_result,
    passing_result,
    rejected_result,
)

from grader.output import write_results
from grader.report import render_report

pytestmark = pytest.mark.browser


def _grade_real(tmp: Path, name: str, example: Path) -> Path:
    out = tmp / f"{name}-report"
    write_results(grade(example, seed=3), out)
    return out


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Report folders by name: hand-made fixtures and two real gradings."""
    tmp = tmp_path_factory.mktemp("reports")
    folders = {}
    for name, make in {
        "failing": failing_result,
        "passing": passing_result,
        "rejected": rejected_result,
        "chain": chain_result,
    }.items():
        render_report(make(), tmp / name)
        folders[name] = tmp / name
    folders["mul_bug"] = _grade_real(tmp, "mul_bug", EXAMPLES / "bug_mul_backward")
    folders["complete"] = _grade_real(tmp, "complete", EXAMPLES / "complete" / "package")
    return folders


PAGES = [
    ("mul_bug", "index.html"),
    ("mul_bug", "step-2.html"),
    ("mul_bug", "step-3.html"),
    ("mul_bug", "step-5.html"),
    ("complete", "step-5.html"),
    ("failing", "step-1.html"),
    ("failing", "step-2.html"),
    ("failing", "step-3.html"),
    ("rejected", "index.html"),
    ("chain", "step-2.html"),
]


@pytest.mark.parametrize(("report", "name"), PAGES)
def test_page_loads_offline_cleanly_and_fits_a_phone(
    open_page: Any, reports: dict[str, Path], report: str, name: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = f"{report}-{name.removesuffix('.html')}"
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        seen = open_page(reports[report] / name, viewport)
        assert seen.errors == []
        assert seen.requests and all(url.startswith("file://") for url in seen.requests)
        assert seen.page.locator("script").count() == 0
        overflow = seen.page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= viewport["width"], f"{label}: the page scrolls sideways"
        seen.page.screenshot(path=str(SCREENSHOTS / f"{stem}-{label}.png"), full_page=True)


def test_total_score_is_visible(open_page: Any, reports: dict[str, Path]) -> None:
    seen = open_page(reports["mul_bug"] / "index.html")
    total = seen.page.locator(".total")
    assert total.is_visible()
    assert "97 / 100 points" in total.inner_text()  # the product's gradient, charged once
    assert seen.page.locator("svg.bar").count() == 5
    # The one cause, said once at the top, above the steps.
    diagnosis = seen.page.locator(".diagnosis")
    assert diagnosis.is_visible()
    assert "one method: Value.__mul__ (backward)" in diagnosis.inner_text()
    box, steps = diagnosis.bounding_box(), seen.page.locator("ol.steps").bounding_box()
    assert box is not None and steps is not None and box["y"] < steps["y"]


def test_graph_and_loss_chart_are_drawn_at_a_real_size(
    open_page: Any, reports: dict[str, Path]
) -> None:
    step2 = open_page(reports["mul_bug"] / "step-2.html").page
    graph = step2.locator("svg.graph").first
    box = graph.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 150
    assert step2.locator("svg.graph g.node-first").first.is_visible()
    step5 = open_page(reports["complete"] / "step-5.html").page
    plot = step5.locator("svg.plot").first.bounding_box()
    assert plot and plot["width"] > 300 and plot["height"] > 150


def test_tab_reaches_the_skip_link_first_and_it_moves_focus(
    open_page: Any, reports: dict[str, Path]
) -> None:
    page = open_page(reports["mul_bug"] / "step-2.html").page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = page.locator(".skip-link").bounding_box()
    assert box and box["y"] >= 0, "the skip link must show when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_focus_is_visible_on_links(open_page: Any, reports: dict[str, Path]) -> None:
    page = open_page(reports["mul_bug"] / "index.html").page
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert page.evaluate("document.activeElement.tagName") == "A"
    assert outline not in ("none", "")


def test_print_hides_navigation_and_keeps_the_content(
    open_page: Any, reports: dict[str, Path]
) -> None:
    page = open_page(reports["mul_bug"] / "step-2.html").page
    page.emulate_media(media="print")
    assert not page.locator("nav").is_visible()
    assert page.locator("svg.graph").first.is_visible()
    assert page.locator("h1").inner_text() == "Step 2: Gradients"

"""The HTML report: what each page says, that hostile output stays text, that hidden checks
leak nothing, and that graphs and loss curves are drawn where they should be."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from grading import EXAMPLES, grade
from html_tree import Element, parse, words
from report_fixtures import (
    HOSTILE,
    LEAK,
    MUL_BLAME,
    chain_graph,
    chain_result,
    check,
    failing_result,
    loss_curve,
    mul_graph,
    passing_result,
    rejected_result,
    result,
)

from grader.harness.graph import topological
from grader.models import GradeResult
from grader.output import write_results
from grader.report import palette, render_pages, render_report
from grader.report.compgraph import graph_view
from grader.report.details import MAX_OUTPUT, outputs
from grader.report.graph_layout import columns, layout
from grader.report.views import check_view


def pages(result: GradeResult) -> dict[str, Element]:
    return {name: parse(html) for name, html in render_pages(result).items()}


def articles(page: Element) -> list[Element]:
    return page.find_all("article", cls="check")


def heading(article: Element) -> str:
    return words(article.find("h3").text)


def facts(element: Element) -> dict[str, str]:
    """A ``<dl>``'s terms and definitions."""
    items = [e for e in element.find("dl").iter() if e.tag in ("dt", "dd")]
    return {words(dt.text): words(dd.text) for dt, dd in zip(items[::2], items[1::2], strict=True)}


def cells(row: Element) -> list[str]:
    return [words(c.text) for c in row.iter() if c.tag in ("th", "td")]


# ---------------------------------------------------------------- the overview page


def test_overview_of_a_graded_submission() -> None:
    index = pages(failing_result())["index.html"]
    assert words(index.find(cls="total").text) == "Total score: 4 / 25 points"
    about = facts(index)
    assert about["Seed"].startswith("424242") and about["Sandbox"] == "local"
    assert about["Started at"] == "2026-01-02T03:04:05+00:00" and about["Duration"] == "12.3 s"
    assert about["Grader version"] == "0.1.0" and about["Status"] == "graded"
    assert "renamed engine.py" in [words(li.text) for li in index.find_all("li")]
    rows = index.find("ol", cls="steps").find_all("li")
    assert [words(r.find(cls="numbers").text) for r in rows] == [
        "2 / 8 points · 1 of 4 checks passed",
        "0 / 8 points · 0 of 4 checks passed",
        "0 / 2 points · 0 of 1 checks passed",
        "2 / 2 points · 1 of 1 checks passed",
        "0 / 5 points · 0 of 1 checks passed",
    ]
    assert [r.find("a").attrs["href"] for r in rows] == [f"step-{k}.html" for k in range(1, 6)]
    assert len(index.find_all("svg", cls="bar")) == 5


def test_score_bars_say_their_numbers() -> None:
    index = pages(passing_result())["index.html"]
    labels = [bar.attrs["aria-label"] for bar in index.find_all("svg", cls="bar")]
    assert labels == ["5 of 5 points"] * 4 + ["5 of 5 points"]


def test_rejected_submission_explains_why_and_has_no_step_pages() -> None:
    rendered = pages(rejected_result())
    assert list(rendered) == ["index.html"]
    box = rendered["index.html"].find("section", cls="rejected")
    assert "could not be graded" in words(box.text)
    assert "the archive is corrupt" in words(box.text)
    assert box.find(cls="status").text == "rejected"


def test_ungraded_steps_get_no_page_and_no_link(tmp_path: Path) -> None:
    partial = failing_result()
    steps = tuple(
        s if s.step < 3 else type(s)(s.step, s.title, s.checks, False) for s in partial.steps
    )
    render_report(failing_result(), tmp_path)  # an earlier, full grading into the same folder
    render_report(type(partial)(**{**partial.__dict__, "steps": steps}), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "index.html",
        "step-1.html",
        "step-2.html",
    ]
    index = parse((tmp_path / "index.html").read_text())
    assert "not graded in this run" in words(index.text)
    assert {a.attrs["href"] for a in index.find_all("a")} >= {"step-1.html", "step-2.html"}
    assert "step-3.html" not in {a.attrs["href"] for a in index.find_all("a")}


# ---------------------------------------------------------------- the step pages


def test_every_check_in_order_with_status_and_points() -> None:
    step = pages(failing_result())["step-2.html"]
    assert [heading(a) for a in articles(step)] == [
        "Backward of *",
        "Backward of +",
        "A long chain",
        "Never ran",
    ]
    labels = [a.find("span", cls="status").text for a in articles(step)]
    assert labels == ["failed", "error", "timed out", "not run"]
    assert [a.classes for a in articles(step)][0] >= {"check", "check-failed"}
    assert [words(a.find(cls="points").text) for a in articles(step)] == ["0 / 2 points"] * 4
    assert words(step.find(cls="lead").text) == "0 / 8 points · 0 of 4 checks passed"


def test_failed_check_shows_where_to_look_hint_inputs_and_both_values() -> None:
    check = articles(pages(failing_result())["step-1.html"])[1]
    text = words(check.text)
    assert words(check.find(cls="where").text) == "Where to look: Value.__mul__"
    assert "a * b: expected 6.0, got 5.0." in text and "Look at" not in text
    assert "Hint: Multiply the data." in text
    values = [t for t in check.find_all("table") if "reference computed" in t.find("caption").text][
        0
    ]
    assert [words(td.text) for td in values.find_all("td")] == ["6", "5", "no, differs"]
    inputs = [t for t in check.find_all("table") if t.find("caption").text == "Inputs"][0]
    assert [cells(r) for r in inputs.find("tbody").find_all("tr")] == [["a", "2"], ["b", "3"]]
    first = facts(check)
    assert first["Why it differs"] == "outside the tolerance"
    assert (first["Reference"], first["Your code"]) == ("6", "5")


def test_passed_check_keeps_quiet() -> None:
    check = articles(pages(failing_result())["step-1.html"])[0]
    assert check.find(cls="status").text == "passed"
    assert not check.find_all(cls="hint") and not check.find_all(cls="where")
    assert check.find("details").find("summary").text == "What was checked"


def test_error_shows_traceback_trimmed_to_their_code() -> None:
    check = articles(pages(failing_result())["step-2.html"])[1]
    traceback = check.find("pre").text.splitlines()
    assert traceback == [
        "Traceback (only the lines of your code):",
        '  File "micrograd/value.py", line 80, in Value.__add__',
        "    out = Value(self.data + other.data, (self, other), '+')",
        '  File "micrograd/value.py", line 84, in Value.backward',
        '    raise NotImplementedError("Value.backward")',
        "NotImplementedError: Value.backward",
    ]
    assert words(check.find(cls="where").text) == "Where to look: Value.backward"


def test_timeout_and_not_run_say_so() -> None:
    chain, never = articles(pages(failing_result())["step-2.html"])[2:]
    assert "this check took longer than 10 s" in words(chain.text)
    assert "this check did not run" in words(never.text)


def test_output_is_capped_again() -> None:
    (shown,) = outputs({"stdout": "x" * 10_000})
    assert len(shown.text) == MAX_OUTPUT and shown.cut


# ---------------------------------------------------------------- hostile output


def test_hostile_text_stays_text_everywhere() -> None:
    rendered = pages(failing_result())
    step = rendered["step-3.html"]
    pres = [p.text for p in step.find_all("pre")]
    assert HOSTILE + "\nprinted" in pres and HOSTILE in pres
    assert any(HOSTILE in line for line in pres[0].splitlines())  # the frame's code line
    assert heading(articles(step)[0]).startswith(HOSTILE[:30])
    assert HOSTILE in rendered["index.html"].find("h1").text
    for page in rendered.values():
        assert not page.find_all("script") and not page.find_all("img")
        for element in page.iter():
            assert not [name for name in element.attrs if name.startswith("on")], element.tag
    assert "49" not in words(step.text)


def test_hostile_node_names_are_escaped_inside_the_svg() -> None:
    svg = articles(pages(failing_result())["step-3.html"])[0].find("svg", cls="graph")
    first = svg.find("g", cls="node-first")
    assert first.attrs["data-node"] == HOSTILE
    assert HOSTILE in first.find("title").text
    assert not svg.find_all("script") and not svg.find_all("img")


@pytest.mark.parametrize("make", [failing_result, passing_result, rejected_result])
def test_nothing_external_is_referenced(make: object) -> None:
    assert callable(make)
    for name, html in render_pages(make()).items():
        page = parse(html)
        for element in page.iter():
            for attr in ("src", "href", "xlink:href", "action", "poster", "data"):
                value = element.attrs.get(attr, "")
                assert not re.match(r"\s*(https?:|//)", value), (name, attr, value)
        for style in [s.text for s in page.find_all("style")] + [
            e.attrs["style"] for e in page.iter() if "style" in e.attrs
        ]:
            assert not re.search(r"url\(|@import", style), name
        assert not page.find_all("link") and not page.find_all("script"), name


def test_pages_declare_a_policy_that_forbids_loading_anything() -> None:
    page = pages(passing_result())["index.html"]
    policy = page.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_malformed_markers_from_the_sandbox_still_render() -> None:
    # Code in the sandbox can replace the encoder, so any JSON may arrive as a "value".
    junk = {"$map": 5}
    graph = mul_graph()
    graph["actual"]["nodes"][3] = {
        "name": "d",
        "data": junk,
        "grad": [[junk]],
        "op": junk,
        "children": junk,
    }
    graph["actual"]["nodes"].append("not a node")
    details = {
        "inputs": [["x", junk], "not a pair"],
        "values": [{"name": "v", "expected": 1.0, "actual": {"$map": [[1]]}}],
        "mismatch": {
            "name": junk,
            "path": junk,
            "expected": 1.0,
            "actual": junk,
            "reason": None,
            "tolerance": "loose",
        },
        "error": {"type": None, "message": junk, "frames": ["x", {"line": junk}]},
        "stdout": junk,
        "graph": graph,
        "plots": [
            {
                "name": junk,
                "kind": "loss",
                "expected": loss_curve(),
                "actual": [junk, "x", None, True, -1.0, 1e308, 2.0],
            }
        ],
    }
    page = pages(result({2: [check("junk", "failed", details=details)]}))["step-2.html"]
    (article,) = articles(page)
    assert "{'$map': 5}" in words(article.text)
    assert article.find("g", data_node="d").classes >= {"node", "node-wrong"}
    assert len(article.find_all("svg", cls="plot")) == 1


# ---------------------------------------------------------------- hidden checks


def test_hidden_checks_show_only_title_points_and_verdict() -> None:
    rendered = render_pages(failing_result())
    for name, html in rendered.items():
        assert LEAK not in html, name
    hidden = articles(parse(rendered["step-1.html"]))[2:]
    assert [a.find(cls="status").text for a in hidden] == ["hidden check: failed"] * 2
    assert [heading(a) for a in hidden] == ["Hidden mixed expression", "Hidden crash"]
    for article in hidden:
        assert not article.find_all("table") and not article.find_all("pre")
        assert not article.find_all("svg") and not article.find_all("figure")


def test_hidden_view_never_reads_details() -> None:
    failing = failing_result().steps[0].checks[2]
    view = check_view(failing, "x")
    assert view.hidden and view.label == "hidden check: failed"
    assert (view.feedback, view.hint, view.where) == ("", "", "")
    assert not (view.inputs or view.values or view.outputs or view.plots)
    assert view.mismatch is None and view.error is None and view.graph is None


# ---------------------------------------------------------------- the computation graph


def test_failing_gradient_check_draws_the_graph_with_the_first_wrong_node() -> None:
    check = articles(pages(failing_result())["step-2.html"])[0]
    svg = check.find("svg", cls="graph")
    nodes = {g.attrs["data-node"]: g for g in svg.find_all("g", cls="node")}
    assert set(nodes) == {"a", "b", "c", "d", "e"}
    assert "node-first" in nodes["c"].classes and "node-wrong" in nodes["b"].classes
    assert {"node-ok"} <= nodes["d"].classes and "node-ok" in nodes["a"].classes
    first = words(" ".join(t.text for t in nodes["c"].find_all("text")))
    assert first.startswith("first wrong gradient c input")
    assert "grad 2.425 should be -2.913 wrong gradient" in first
    assert words(svg.find("title").text) == "graph of e = (a * b) * c"
    assert len(svg.find_all("path", marker_end=f"url(#{check.attrs['id']}-graph-arrow)")) == 4
    table = [t for t in check.find_all("table") if "Nodes that differ" in t.text][0]
    assert [words(r.find("th").text) for r in table.find("tbody").find_all("tr")] == [
        "c (first wrong gradient)",
        "b",
    ]


def test_mul_bug_graph_draws_each_input_once_connected_and_marks_every_wrong_node() -> None:
    """The example's graph g = ((a * b) * c) * (a * a): c feeds d and e, f feeds g across
    a column; each is one box with edges, no tag; every node the audit found wrong (here
    two ``**`` nodes in a second graph) says so in its box, in words that fit it."""
    result = grade(EXAMPLES / "bug_mul_backward", seed=99)
    (multiply,) = [c for s in result.steps for c in s.checks if c.id == "multiply_backward"]
    view = graph_view(multiply.details["graph"], "m")
    svg = parse(str(view.svg))
    assert svg.find_all("g", cls="tag") == []
    names = [g.attrs["data-node"] for g in svg.find_all("g", cls="node")]
    assert sorted(names) == sorted(set(names))  # each node, inputs included, drawn once
    edges = sum(len(set(n["children"])) for n in multiply.details["graph"]["expected"]["nodes"])
    assert len(svg.find_all("path", marker_end="url(#m-arrow)")) == edges == 7
    graph = dict(multiply.details["graph"])
    graph["wrong"] = [{"node": "d", "phase": "backward"}, {"node": "e", "phase": "backward"}]
    boxes = parse(str(graph_view(graph, "w").svg)).find_all("g", cls="node")
    marked = {
        g.attrs["data-node"]
        for g in boxes
        if "wrong backward (*)" in " ".join(t.text for t in g.find_all("text"))
    }
    assert {"d", "e"} <= marked
    for g in boxes:  # no line of text is longer than a box holds (about 24 characters)
        assert all(len(t.text) <= 24 for t in g.find_all("text")), g


def test_graph_is_drawn_for_a_timed_out_check_only_if_details_have_one() -> None:
    step = pages(failing_result())["step-2.html"]
    assert len(articles(step)[2].find_all("svg", cls="graph")) == 1
    assert not articles(step)[1].find_all("svg", cls="graph")


def test_a_43_node_chain_wraps_into_rows_without_overlaps() -> None:
    graph = chain_graph()
    names = topological(graph["expected"])
    kids = {n["name"]: n["children"] for n in graph["expected"]["nodes"]}
    cols = columns(kids, names)
    assert len(cols) == 41 and sorted(cols[0]) == ["a", "b", "c"] and cols[-1] == ["n40"]
    placed = layout(cols, {name: 60.0 for name in names})
    assert placed.width <= 1000 and len(set(placed.row.values())) >= 8
    boxes = list(placed.boxes.values())
    for i, one in enumerate(boxes):
        assert one.right <= placed.width and one.bottom <= placed.height
        for other in boxes[i + 1 :]:
            assert (
                one.right <= other.x
                or other.right <= one.x
                or one.bottom <= other.y
                or other.bottom <= one.y
            )


def test_chain_graph_renders_every_node_with_tags_for_far_inputs() -> None:
    view = graph_view(chain_graph(), "g")
    page = parse(str(view.svg))
    assert len(page.find_all("g", cls="node")) == 43
    assert len(page.find_all("g", cls="tag")) >= 30  # leaves far away become tags
    assert [(n.name, n.first) for n in view.wrong] == [("n18", True), ("c", False)]
    assert int(float(page.find("svg").attrs["width"])) <= 1000
    step = pages(chain_result())["step-2.html"]
    assert len(step.find("svg", cls="graph").find_all("g", cls="node")) == 43


# ---------------------------------------------------------------- the loss chart


def test_loss_chart_draws_both_curves_with_legend_and_final_values() -> None:
    check = articles(pages(failing_result())["step-5.html"])[0]
    svg = check.find("svg", cls="plot")
    strokes = [p.attrs.get("stroke") for p in svg.find_all("path")]
    assert palette.REFERENCE_LINE in strokes and palette.STUDENT_LINE in strokes
    dashed = svg.find("path", stroke=palette.STUDENT_LINE)
    assert dashed.attrs["stroke-dasharray"] and dashed.attrs["d"].count("M") == 2  # NaN gap
    legend = " ".join(t.text for t in svg.find("g", cls="legend").find_all("text"))
    assert legend == "reference (correct gradients), solid your code, dashed"
    assert "loss (log scale)" in words(svg.text) and "epoch" in words(svg.text)
    text, shown = words(check.text), facts(check)
    assert shown["Final loss, reference"] == "0.00023" and shown["Final loss, your code"] == "4"
    assert shown["prediction for x after training, your code"] == "-3.25"
    assert "first departs from the reference's at epoch 5" in text
    assert "1 of your 40 epochs are left out of the chart" in text


def test_loss_chart_of_a_passing_run_shows_matching_curves() -> None:
    check = articles(pages(passing_result())["step-5.html"])[0]
    assert check.find(cls="status").text == "passed"
    assert len(check.find_all("svg", cls="plot")) == 1
    assert "Your loss follows the reference's at every epoch." in words(check.text)


# ---------------------------------------------------------------- colours


@pytest.mark.parametrize(("fg", "bg"), palette.TEXT_PAIRS)
def test_text_colours_meet_wcag_aa(fg: str, bg: str) -> None:
    assert palette.contrast(fg, bg) >= 4.5


@pytest.mark.parametrize(("fg", "bg"), palette.GRAPHIC_PAIRS)
def test_graphic_colours_meet_wcag_non_text_contrast(fg: str, bg: str) -> None:
    assert palette.contrast(fg, bg) >= 3.0


def test_every_status_label_is_words_not_only_colour() -> None:
    step = pages(failing_result())["step-2.html"]
    for label in step.find_all("span", cls="status"):
        assert label.text.strip()


# ---------------------------------------------------------------- the real thing


@pytest.mark.slow
def test_grading_the_mul_backward_bug_example_reports_it_on_the_step_2_page(tmp_path: Path) -> None:
    result = grade(EXAMPLES / "bug_mul_backward", steps=(1, 2), seed=3)
    out = tmp_path / "report"
    write_results(result, out)
    assert sorted(p.name for p in out.iterdir()) == [
        "index.html",
        "results.json",
        "step-1.html",
        "step-2.html",
    ]
    step = parse((out / "step-2.html").read_text())
    failing = [a for a in articles(step) if "check-failed" in a.classes]
    assert failing and "Value.__mul__" in words(failing[0].find(cls="where").text)
    assert MUL_BLAME in words(step.text)
    graphs = step.find_all("svg", cls="graph")
    assert graphs and all(g.find_all("g", cls="node-first") for g in graphs)
    assert "first wrong gradient" in words(graphs[0].text)

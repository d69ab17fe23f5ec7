"""Similarity screening (copydetect) on a fixed corpus committed with the test
(tests/data/similarity/class): four honest solutions written independently, a renamed copy
of one (chen_c -> evans_copy_renamed: every name, ``self`` too, with comments and quotes
changed), a copy of another with its methods and classes reordered (dubois_d ->
fong_copy_reordered), and three untouched skeletons."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from browser import DESKTOP
from exercise_paths import REPO
from staff_class import patch_grading, run_class

from grader.batch import similarity
from grader.exercise import load_exercise

CORPUS = REPO / "tests" / "data" / "similarity" / "class"
COPIES = {("chen_c", "evans_copy_renamed"), ("dubois_d", "fong_copy_reordered")}
HONEST = {"anders_a", "berg_b", "chen_c", "dubois_d"}
SKELETONS = {"gray_skeleton", "hill_skeleton", "ivanova_skeleton"}


@pytest.fixture(scope="module")
def ranked() -> list[similarity.Pair]:
    documents = [
        similarity.tokenized(path.stem, similarity.source_text(path) or "")
        for path in sorted(CORPUS.glob("*.py"))
    ]
    sets = similarity.fingerprint_sets(documents, similarity.boilerplate(load_exercise()))
    return similarity.rank(sets)


def test_the_copies_rank_above_every_honest_pair(ranked: list[similarity.Pair]) -> None:
    top = {(p.a, p.b) for p in ranked[:2]}
    assert top == COPIES
    honest = [p for p in ranked if (p.a, p.b) not in COPIES]
    assert honest, "honest solutions share some code: the corpus must show it"
    assert min(p.score for p in ranked[:2]) > max(p.score for p in honest)


def test_the_renamed_copy_renamed_self_too() -> None:
    copy = (CORPUS / "evans_copy_renamed.py").read_text()
    assert "self" not in copy and "this.grad" in copy


def test_untouched_skeletons_do_not_match(ranked: list[similarity.Pair]) -> None:
    assert not [p for p in ranked if p.a in SKELETONS or p.b in SKELETONS]


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A batch of the corpus with --similarity and chen_c as a reference source."""
    base = tmp_path_factory.mktemp("similarity")
    shutil.copytree(CORPUS, base / "class")
    with pytest.MonkeyPatch.context() as monkeypatch:
        patch_grading(monkeypatch)
        summary = run_class(base / "class", base / "out", similarity=(CORPUS / "chen_c.py",))
    assert summary.complete and summary.similarity
    return base / "out"


def test_the_batch_writes_the_ranking(screened: Path) -> None:
    with (screened / "similarity.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["a", "b", "score"]
    scores = [float(score) for _, _, score in rows[1:]]
    assert scores == sorted(scores, reverse=True)
    assert {tuple(r[:2]) for r in rows[1:3]} == COPIES
    with (screened / "gradebook.csv").open(newline="") as handle:
        ids = {row["submission"] for row in csv.DictReader(handle)}
    assert {name for row in rows[1:] for name in row[:2]} <= ids
    references = (screened / "similarity-references.csv").read_text().splitlines()
    assert references[0] == "submission,reference,score"
    assert references[1].startswith(("chen_c,reference: chen_c.py,1.0000", "evans_copy_renamed,"))


def test_the_page_is_linked_and_shows_matched_regions(screened: Path) -> None:
    assert 'href="similarity.html"' in (screened / "index.html").read_text()
    page = (screened / "similarity.html").read_text()
    pairs = len((screened / "similarity.csv").read_text().splitlines()) - 1
    against = len((screened / "similarity-references.csv").read_text().splitlines()) - 1
    shown = min(pairs, similarity.TOP_PAIRS) + min(against, similarity.TOP_REFERENCES)
    assert pairs == 15 and against == 6 and page.count('class="pair"') == shown
    assert "<mark>" in page and "<script" not in page


def test_the_tokenized_code_is_cached_with_its_content_key(screened: Path) -> None:
    cache = json.loads((screened / "chen_c" / similarity.CACHE).read_text())
    key = json.loads((screened / "chen_c" / ".key").read_text())
    assert cache["content"] == key["content"] and cache["tokenizer"].startswith("copydetect")
    assert "def to_node" not in cache["raw"] and "as_value" in cache["raw"]


@pytest.mark.browser
def test_the_page_in_a_browser(screened: Path, open_page) -> None:  # type: ignore[no-untyped-def]
    seen = open_page(screened / "similarity.html", DESKTOP)
    page = seen.page
    page.locator("details summary").first.click()
    first = page.locator("section.pair").first
    assert first.locator("mark").first.is_visible()
    assert "evans_copy_renamed" in first.inner_text() or "fong" in first.inner_text()
    assert seen.errors == [] and all(u.startswith("file://") for u in seen.requests)

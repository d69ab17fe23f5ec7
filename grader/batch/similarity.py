"""Similarity screening across a class: the pairs of submissions that share the most code.

Built on copydetect (MIT), which turns code into fingerprints the way MOSS does (Schleimer,
Wilkerson and Aiken's winnowing): the code is tokenized with names, strings and comments
taken out, so renaming and reformatting change nothing, and every run of k tokens is
hashed (micrograde spells ``self`` as an ordinary name first, see ``as_names``). It is
an optional extra (``pip install 'micrograde[similarity]'``).

    each submission --intake--> its Python source (a notebook's code cells too)
        --copydetect's tokenizer--> cached in <student>/.similarity.json with its content key
        --k-gram hashes, less the skeletons' (boilerplate) and fragments common to the
          class--> a set of fingerprints
    every pair --shared fingerprints / fingerprints of the smaller one--> a score, ranked
    the top pairs --copydetect.compare_files--> matched regions, shown side by side

The tokenized text is what is cached, not the hashes: copydetect hashes with Python's
``hash()``, which is salted afresh in every process, so hashes from another run would never
match. Honest solutions of this small exercise look alike, so pairs are ranked, never
called copied: a high rank is a reason to read both, nothing more.

What it cannot see: code rewritten by hand rather than renamed or reordered (statements in
another order within a method, another algorithm), help given before the code was written,
code from anywhere that is not in the class or among the reference sources, and
submissions the intake rejected (they have no code to compare).
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.input import staged
from grader.batch.lms import Submission
from grader.errors import ConfigError, SubmissionRejected
from grader.exercise import Exercise
from grader.files import dump_json, write_atomic
from grader.intake.prepare import prepare_submission
from grader.report.similarity import PairView, SimilarityPage, render_similarity, segments

CSV_FILE = "similarity.csv"
REFERENCES_CSV = "similarity-references.csv"
PAGE = "similarity.html"
CACHE = ".similarity.json"
TOP_PAIRS = 25  # shown side by side on the page; the CSV has every pair that shares code
TOP_REFERENCES = 10
# A fragment found in more than this share of the class (and more than COMMON_FLOOR
# submissions) is the exercise's, not a pair's: it is left out like the skeletons.
COMMON_SHARE = 0.1
COMMON_FLOOR = 10
# Scores are shares of the smaller submission's fingerprints, but never of fewer than this:
# a nearly empty submission must not score 1 for its three lines.
MIN_FINGERPRINTS = 40
_SELF = re.compile(r"\bself\b")


@dataclass(frozen=True)
class Document:
    """One submission's code, as written and as copydetect's tokenizer reduces it."""

    name: str
    raw: str
    filtered: str


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float
    shared: int  # fingerprints both have


def require_copydetect() -> None:
    """Raise ConfigError with the fix when the similarity extra is not installed."""
    try:
        import copydetect  # noqa: F401
    except ImportError:
        raise ConfigError(
            "similarity screening needs copydetect: pip install 'micrograde[similarity]'"
        ) from None


def _copydetect() -> Any:
    import copydetect
    import copydetect.defaults
    import copydetect.utils

    return copydetect


def k_and_window() -> tuple[int, int]:
    """copydetect's own defaults: k-grams of 25 tokens, every one kept (window 1)."""
    defaults = _copydetect().defaults
    return defaults.NOISE_THRESHOLD, defaults.GUARANTEE_THRESHOLD - defaults.NOISE_THRESHOLD + 1


def source_text(path: Path) -> str | None:
    """The Python code of a submission, as the intake reads it; None when it is rejected."""
    with tempfile.TemporaryDirectory(prefix="micrograde-similarity-") as scratch:
        try:
            manifest = prepare_submission(path, Path(scratch))
        except SubmissionRejected:
            return None
        # A module intake generated (to run a notebook or script statement by statement)
        # is the same for everybody: the student's own code is its notebook's cells, or
        # the script beside it.
        generated = {Path(scratch) / f"{name}.py" for name in manifest.toplevel}
        files = sorted(p for p in Path(scratch).rglob("*.py") if p.is_file())
        texts = [
            p.read_text(encoding="utf-8", errors="replace") for p in files if p not in generated
        ]
        texts += [
            source.text
            for top in manifest.toplevel.values()
            if top.kind == "notebook"
            for source in top.sources
        ]
    return "\n\n".join(text for text in texts if text.strip())


def as_names(raw: str) -> str:
    """``raw`` with ``self`` spelt as an ordinary name, of the same length.

    copydetect's tokenizer (pygments) keeps ``self`` as a keyword while every other name
    becomes one symbol, so a copy that renamed ``self`` would look like new code. The same
    length keeps every position valid in the original text, which is what the page shows.
    """
    return _SELF.sub("_slf", raw)


def tokenized(name: str, raw: str) -> Document:
    filtered, _ = _copydetect().utils.filter_code(as_names(raw), f"{name}.py")
    return Document(name, raw, filtered)


def load_documents(
    submissions: Sequence[Submission], out_dir: Path, contents: Mapping[str, str]
) -> list[Document]:
    """Each submission's document, from its cache when its content has not changed."""
    tokenizer = f"copydetect {_copydetect().__version__}, self as a name"
    documents = []
    for submission in submissions:
        cache = out_dir / submission.student / CACHE
        key = {"content": contents.get(submission.student), "tokenizer": tokenizer}
        document = _cached(cache, key, submission.student)
        if document is None:
            with staged(submission) as source:
                raw = source_text(source)
            if raw is None:
                continue
            document = tokenized(submission.student, raw)
            record = {**key, "raw": document.raw, "filtered": document.filtered}
            write_atomic(cache, dump_json(record))
        documents.append(document)
    return documents


def _cached(path: Path, key: dict[str, Any], name: str) -> Document | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if {k: data.get(k) for k in key} == key:
            return Document(name, str(data["raw"]), str(data["filtered"]))
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    return None


def reference_documents(paths: Sequence[Path]) -> list[Document]:
    """Reference sources (a file, folder, .zip or notebook each), named after the path."""
    documents = []
    for path in paths:
        raw = source_text(path)
        if raw is None:
            raise ConfigError(f"the reference source {path} holds no class Value")
        documents.append(tokenized(f"reference: {path.name}", raw))
    return documents


def boilerplate(exercise: Exercise) -> Any:
    """The fingerprints of every skeleton file: what every student was given."""
    import numpy

    cd = _copydetect()
    k, window = k_and_window()
    hashes: set[int] = set()
    for step in exercise.steps:
        for path in sorted(exercise.skeleton_dir(step).rglob("*.py")):
            text = io.StringIO(as_names(path.read_text(encoding="utf-8")))
            hashes |= cd.CodeFingerprint(str(path), k, window, fp=text).hashes
    return numpy.array(sorted(hashes))


def fingerprint_sets(documents: Sequence[Document], skeletons: Any) -> dict[str, set[int]]:
    utils = _copydetect().utils
    k, window = k_and_window()
    return {
        d.name: set(utils.get_document_fingerprints(d.filtered, k, window, skeletons)[0])
        for d in documents
    }


def rank(sets: dict[str, set[int]]) -> list[Pair]:
    """Every pair that shares a fingerprint, most similar first."""
    counts = Counter(h for hashes in sets.values() for h in hashes)
    limit = max(COMMON_FLOOR, COMMON_SHARE * len(sets))
    common = {h for h, n in counts.items() if n > limit}
    names = sorted(sets)
    kept = [sets[name] - common for name in names]
    pairs = []
    for i, first in enumerate(kept):
        for j in range(i + 1, len(kept)):
            shared = len(first & kept[j])
            if shared:
                smaller = max(min(len(first), len(kept[j])), MIN_FINGERPRINTS)
                pairs.append(Pair(names[i], names[j], round(shared / smaller, 4), shared))
    pairs.sort(key=lambda p: (-p.score, -p.shared, p.a, p.b))
    return pairs


def cross_rank(sets: dict[str, set[int]], references: dict[str, set[int]]) -> list[Pair]:
    """Each submission against each reference source, most similar first."""
    pairs = []
    for name, hashes in sorted(sets.items()):
        for reference, theirs in sorted(references.items()):
            shared = len(hashes & theirs)
            if shared:
                smaller = max(min(len(hashes), len(theirs)), MIN_FINGERPRINTS)
                pairs.append(Pair(name, reference, round(shared / smaller, 4), shared))
    pairs.sort(key=lambda p: (-p.score, -p.shared, p.a, p.b))
    return pairs


def pairs_csv(pairs: Sequence[Pair], header: tuple[str, str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows((p.a, p.b, f"{p.score:.4f}") for p in pairs)
    return out.getvalue().encode("utf-8")


class _Prints:
    """copydetect's fingerprint of each document shown, made once however many pairs show it."""

    def __init__(self, documents: dict[str, Document], skeletons: Any) -> None:
        self.documents, self.skeletons, self.made = documents, skeletons, dict[str, Any]()

    def __getitem__(self, name: str) -> Any:
        if name not in self.made:
            cd = _copydetect()
            k, window = k_and_window()
            text = io.StringIO(as_names(self.documents[name].raw))
            self.made[name] = cd.CodeFingerprint(f"{name}.py", k, window, self.skeletons, fp=text)
        return self.made[name]


def pair_view(rank_: int, pair: Pair, prints: _Prints) -> PairView:
    """A pair side by side, its matched regions found by copydetect.compare_files."""
    first, second = prints[pair.a], prints[pair.b]
    _, shares, (left, right) = _copydetect().compare_files(first, second)
    return PairView(
        rank_,
        pair.a,
        pair.b,
        pair.score,
        (float(shares[0]), float(shares[1])),
        segments(prints.documents[pair.a].raw, _ranges(left)),
        segments(prints.documents[pair.b].raw, _ranges(right)),
    )


def _ranges(slices: Any) -> list[tuple[int, int]]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return []
    return [(int(start), int(end)) for start, end in zip(slices[0], slices[1], strict=True)]


def screen_class(
    submissions: Sequence[Submission],
    exercise: Exercise,
    out_dir: Path,
    contents: Mapping[str, str],
    references: Sequence[Path] = (),
) -> list[Pair]:
    """Write similarity.csv and similarity.html (and the references' CSV); the ranking."""
    documents = load_documents(submissions, out_dir, contents)
    extra = reference_documents(references)
    skeletons = boilerplate(exercise)
    sets = fingerprint_sets(documents, skeletons)
    pairs = rank(sets)
    write_atomic(out_dir / CSV_FILE, pairs_csv(pairs, ("a", "b", "score")))
    prints = _Prints({d.name: d for d in [*documents, *extra]}, skeletons)
    against: list[Pair] = []
    if extra:
        against = cross_rank(sets, fingerprint_sets(extra, skeletons))
        header = ("submission", "reference", "score")
        write_atomic(out_dir / REFERENCES_CSV, pairs_csv(against, header))
    page = SimilarityPage(
        submissions=len(submissions),
        compared=len(documents),
        pairs=len(pairs),
        top=tuple(pair_view(i, p, prints) for i, p in enumerate(pairs[:TOP_PAIRS], 1)),
        references=tuple(
            pair_view(i, p, prints) for i, p in enumerate(against[:TOP_REFERENCES], 1)
        ),
        reference_names=tuple(d.name for d in extra),
    )
    render_similarity(page, out_dir / PAGE)
    return pairs

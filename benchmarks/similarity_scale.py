"""How similarity screening scales: 100 and 500 synthetic submissions, on this machine.

    python benchmarks/similarity_scale.py              # 100 and 500
    python benchmarks/similarity_scale.py --sizes 1000

Each synthetic submission mixes the methods of the four honest solutions of the test corpus
(tests/data/similarity/class), in a shuffled order and with a few lines of its own, so no
two are the same and they share code the way honest solutions of one exercise do; one in
twenty is a renamed copy of another. Printed for each size: the screening's wall time from
nothing (intake, tokenizing, fingerprints, every pair, the page) and again with the cache a
previous run left (what a rerun of ``micrograde batch --similarity`` pays), the number of
pairs that share code, and the size of similarity.html (bounded: only the top pairs are
shown). Target: under a minute for 500 on 2 cores. Not a test.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.batch.keys import content_digest  # noqa: E402
from grader.batch.lms import discover  # noqa: E402
from grader.batch.similarity import PAGE, screen_class  # noqa: E402
from grader.exercise import load_exercise  # noqa: E402

CORPUS = REPO / "tests" / "data" / "similarity" / "class"
BASES = ("anders_a", "berg_b", "chen_c", "dubois_d")
_METHOD = re.compile(r"\n(?=    def )")


def _parts(text: str) -> tuple[str, list[str], str]:
    """(everything before Value's methods, the methods, everything after Value)."""
    start = text.index("class Value")
    end = text.index("\nclass ", start + 1)
    head, body = text[:start], text[start:end]
    chunks = _METHOD.split(body)
    return head + chunks[0], chunks[1:], text[end:]


def synthetic(index: int, rng: random.Random) -> str:
    texts = [(CORPUS / f"{b}.py").read_text() for b in BASES]
    base = texts[index % len(texts)]
    head, methods, tail = _parts(base)
    donors = [_parts(t)[1] for t in texts]
    common = min(map(len, donors))
    mixed = [rng.choice(donors)[i] if i < common else m for i, m in enumerate(methods)]
    rng.shuffle(mixed)
    own = "\n".join(f"    LIMIT_{index}_{j} = {rng.randint(0, 10**6)} * {j}\n" for j in range(3))
    return head + own + "\n" + "\n".join(mixed) + tail


def write_class(folder: Path, size: int) -> None:
    rng = random.Random(size)
    folder.mkdir(parents=True)
    texts = {}
    for index in range(size):
        name = f"student{index:04d}"
        if index % 20 == 19:  # a renamed copy of an earlier one
            source = texts[f"student{index - 7:04d}"]
            text = re.sub(r"\bself\b", "me", source).replace("other", "rhs")
        else:
            text = synthetic(index, rng)
        texts[name] = text
        (folder / f"{name}.py").write_text(text)


def measure(size: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_class(root / "class", size)
        submissions = discover(root / "class")
        contents = {s.student: content_digest(s) for s in submissions}
        exercise = load_exercise()
        out = root / "out"
        timings = []
        for _ in ("cold", "cached"):
            started = time.perf_counter()
            pairs = screen_class(submissions, exercise, out, contents)
            timings.append(time.perf_counter() - started)
        page = (out / PAGE).stat().st_size
        print(
            f"{size:5d} submissions: {timings[0]:6.1f} s from nothing, {timings[1]:6.1f} s "
            f"cached; {len(pairs)} pairs share code; {PAGE} {page / 1024:.0f} KiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500])
    args = parser.parse_args()
    started = time.perf_counter()
    import copydetect  # noqa: F401 - its import (matplotlib) is paid once, shown apart

    print(f"import copydetect: {time.perf_counter() - started:.1f} s")
    for size in args.sizes:
        measure(size)


if __name__ == "__main__":
    main()

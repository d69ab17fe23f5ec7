"""Regenerate the derived example submissions under examples/ from the hand-written ones.

    python scripts/make_examples.py          # rewrite them
    python scripts/make_examples.py --check  # exit 1 if the committed copies are stale

Hand-written: examples/complete/{package,karpathy,single_file.py}.
Derived here: complete/loose_files/ (the reference as two loose modules, `from value
import Value`), complete/notebook.ipynb (the single-file solution split into notebook cells,
with the magics, shell lines and failing imports real notebooks have), complete/package.zip
(the package nested one folder deep, with macOS junk), partial_step3/ (stopped after step
3) and bug_mul_backward/ (one wrong line in __mul__'s backward).
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import nbformat

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BUG = (
    "            other.grad += self.data * out.grad\n",
    "            other.grad += other.data * out.grad  # bug: should be self.data\n",
)


def notebook() -> bytes:
    source = (EXAMPLES / "complete" / "single_file.py").read_text()
    head, rest = source.split("\n\nclass Value:", 1)
    value, network = rest.split("\n\nclass Neuron:", 1)
    cells = [
        nbformat.v4.new_markdown_cell("# micrograd\nMy autograd engine and a tiny MLP."),
        nbformat.v4.new_code_cell("%matplotlib inline\n" + head.split('"""', 2)[2].strip()),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt  # not needed to grade"),
        nbformat.v4.new_code_cell("class Value:" + value),
        nbformat.v4.new_code_cell("!pip install graphviz\nclass Neuron:" + network.rstrip()),
        nbformat.v4.new_code_cell(
            "random.seed(5)\nmodel = MLP(3, [4, 4, 1])\n"
            "xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]\n"
            "ys = [1.0, -1.0, -1.0, 1.0]\nfor k in range(3):\n"
            "    loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys))\n"
            "    model.zero_grad()\n    loss.backward()\n"
            "    for p in model.parameters():\n        p.data -= 0.05 * p.grad\n"
            "    print(k, loss.data)"
        ),
    ]
    book = nbformat.v4.new_notebook(cells=cells)
    for index, cell in enumerate(book.cells):
        cell["id"] = f"cell-{index}"
    return (nbformat.writes(book) + "\n").encode()


def package_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((EXAMPLES / "complete" / "package" / "micrograd").glob("*.py")):
            name = f"alice_submission/micrograd/{path.name}"
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), path.read_bytes())
            junk = zipfile.ZipInfo(
                f"__MACOSX/alice_submission/micrograd/._{path.name}", (2024, 1, 1, 0, 0, 0)
            )
            archive.writestr(junk, b"\x00\x05\x16\x07 Mac OS X resource fork")
    return buffer.getvalue()


def loose_files() -> dict[Path, bytes]:
    """The step-5 reference as a student's two loose files (no package, no docstrings)."""
    reference = EXAMPLES.parent / "reference" / "step_5" / "micrograd"
    folder = EXAMPLES / "complete" / "loose_files"
    files = {}
    for name in ("value.py", "mlp.py"):
        text = (reference / name).read_text()
        text = text.split('"""', 2)[2].lstrip("\n")  # drop the module docstring
        files[folder / name] = text.replace(
            "from micrograd.value import", "from value import"
        ).encode()
    return files


def derived() -> dict[Path, bytes]:
    package = EXAMPLES / "complete" / "package" / "micrograd"
    value = (package / "value.py").read_text()
    assert BUG[0] in value, "the line the bug example changes is gone"
    return {
        **loose_files(),
        EXAMPLES / "complete" / "notebook.ipynb": notebook(),
        EXAMPLES / "complete" / "package.zip": package_zip(),
        EXAMPLES / "partial_step3" / "micrograd" / "__init__.py": b"",
        EXAMPLES / "partial_step3" / "micrograd" / "value.py": value.encode(),
        EXAMPLES / "bug_mul_backward" / "micrograd" / "__init__.py": b"",
        EXAMPLES / "bug_mul_backward" / "micrograd" / "value.py": value.replace(*BUG).encode(),
        EXAMPLES / "bug_mul_backward" / "micrograd" / "mlp.py": (package / "mlp.py").read_bytes(),
    }


def main() -> int:
    stale = [
        path
        for path, content in derived().items()
        if not path.exists() or path.read_bytes() != content
    ]
    if "--check" in sys.argv:
        for path in stale:
            print(f"stale: {path.relative_to(EXAMPLES.parent)}")
        return 1 if stale else 0
    for path, content in derived().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())

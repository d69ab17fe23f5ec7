"""Notebooks written the way students write them after the micrograd lecture (with nbformat).

The classes are the project's own correct solution (``examples/complete/single_file.py``,
cut into its Value part and its network part); around them, what a lecture notebook holds:
numpy, plotting and graph imports first, a plot of ``np.arange``, ``%matplotlib inline``,
``!pip install``, a ``draw_dot``
helper drawn with graphviz, ``plt.subplots``, ``display(...)``, a training loop and prints
at the top level, a ``%%time`` cell that defines ``Value``, a ``%%capture`` cell, a
``%%writefile`` cell, a comment-only cell, a redefined class (the last definition wins),
Windows line endings and Colab's metadata and ``drive.mount``.

``plain_package`` writes the same classes as a package (``micrograd/value.py`` and
``micrograd/mlp.py``), so a test can compare the two scores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat

SOLUTION = Path(__file__).resolve().parents[1] / "examples" / "complete" / "single_file.py"


def solution_parts() -> tuple[str, str]:
    """The Value class, and Neuron + Layer + MLP, of the correct single-file solution."""
    text = SOLUTION.read_text(encoding="utf-8")
    body = text.split("\n\nclass Value:", 1)[1]
    value, network = body.split("\n\nclass Neuron:", 1)
    return "class Value:" + value.rstrip() + "\n", "class Neuron:" + network.rstrip() + "\n"


REPR = """
    def __repr__(self):
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f})"
"""

DRAW_DOT = """def trace(root):
    # builds a set of all nodes and edges in a graph
    nodes, edges = set(), set()
    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v.prev:
                edges.add((child, v))
                build(child)
    build(root)
    return nodes, edges

def draw_dot(root):
    dot = Digraph(format='svg', graph_attr={'rankdir': 'LR'})  # LR = left to right
    nodes, edges = trace(root)
    for n in nodes:
        uid = str(id(n))
        dot.node(name=uid, label="{ data %.4f | grad %.4f }" % (n.data, n.grad), shape='record')
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot
"""

TRAINING = """xs = [
    [2.0, 3.0, -1.0],
    [3.0, -1.0, 0.5],
    [0.5, 1.0, 1.0],
    [1.0, 1.0, -1.0],
]
ys = [1.0, -1.0, -1.0, 1.0]  # desired targets
losses = []
for k in tqdm(range(40)):
    ypred = [n(x) for x in xs]
    loss = sum((yout - ygt)**2 for ygt, yout in zip(ys, ypred))
    n.zero_grad()
    loss.backward()
    for p in n.parameters():
        p.data += -0.05 * p.grad
    losses.append(loss.data)
    print(k, loss.data)
"""

BROKEN_NEURON = """class Neuron:
    # first attempt, fixed further down
    def __init__(self, nin):
        self.w = [Value(0.0) for _ in range(nin)]

    def __call__(self, x):
        raise NotImplementedError
"""


def _code(source: str, count: int | None = None, crlf: bool = False) -> Any:
    cell = nbformat.v4.new_code_cell(source.replace("\n", "\r\n") if crlf else source)
    cell["execution_count"] = count
    return cell


EXPLORE = """def f(x):
    return 3*x**2 - 4*x + 5
xs = np.arange(-5, 5, 0.25)
ys = f(xs)
plt.plot(xs, ys)
"""


def lecture_cells(
    *, endless: bool = False, np_module: str = "numpy", add_with_np: bool = False
) -> list[Any]:
    """The cells of the lecture-style notebook. As in the lecture, the first cell imports
    ``np_module`` as ``np`` and a cell plots with it; ``add_with_np``: ``Value.__add__``
    adds with it too, so the classes really need it; ``endless``: the training never ends.
    """
    value, network = solution_parts()
    value = value.rstrip() + "\n" + REPR
    if add_with_np:
        value = value.replace(
            "Value(self.data + other.data,", "Value(float(np.add(self.data, other.data)),"
        )
    train = TRAINING
    if endless:  # "until the loss is small enough", which never happens
        train = train.replace("for k in tqdm(range(40)):", "k = 0\nwhile True:\n    k += 1")
    md = nbformat.v4.new_markdown_cell
    return [
        md("# micrograd\nFollowing the lecture: a tiny autograd engine and a neural net."),
        _code(
            f"import math\nimport {np_module} as np\nimport matplotlib.pyplot as plt\n"
            "from graphviz import Digraph\nimport random\nfrom collections import deque\n"
            "from tqdm import tqdm\n%matplotlib inline",
            1,
        ),
        _code(EXPLORE, 2),
        _code("!pip install graphviz\n!pip install tqdm", 3),
        md("## The engine"),
        _code("%%time\n" + value, 4, crlf=True),
        _code(DRAW_DOT, 5),
        _code(
            "a = Value(2.0)\nb = Value(-3.0)\nc = Value(10.0)\nd = a*b + c\nd.backward()\n"
            "display(d)\ndraw_dot(d)",
            6,
        ),
        _code("# just some notes to myself\n# TODO: try other activations", None),
        _code(
            "xs_plot = [x / 4 for x in range(-20, 20)]\nplt.plot(xs_plot, "
            "[math.tanh(x) for x in xs_plot]); plt.grid()\nplt.show()",
            7,
        ),
        _code(BROKEN_NEURON, 8),
        _code("%%writefile micrograd/engine.py\nimport math\n\n" + value, 9),
        md("## The network"),
        _code("%%capture\n" + network, 10),
        _code("random.seed(5)\nn = MLP(3, [4, 4, 1])\nn(xs_plot[:3])", 11),
        _code(train, 12),
        _code(
            "fig, ax = plt.subplots(figsize=(6, 4))\nax.plot(losses)\nax.set_xlabel('epoch')\n"
            "fig, (ax1, ax2) = plt.subplots(1, 2)\nplt.show()",
            13,
        ),
        _code("from google.colab import drive\ndrive.mount('/content/drive')", 14),
    ]


def lecture_notebook(path: Path, **options: Any) -> Path:
    """Write the lecture-style notebook, with Colab's metadata, to ``path``."""
    book = nbformat.v4.new_notebook(cells=lecture_cells(**options))
    book.metadata = {
        "colab": {"provenance": [], "name": path.name, "collapsed_sections": []},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
    }
    for index, cell in enumerate(book.cells):
        cell["id"] = f"c{index:04d}"
        cell["metadata"] = {"id": f"colab{index}", "colab": {"base_uri": "https://localhost:8080/"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(book), encoding="utf-8")
    return path


def plain_package(folder: Path) -> Path:
    """The same classes as ``micrograd/value.py`` and ``micrograd/mlp.py``."""
    value, network = solution_parts()
    package = folder / "micrograd"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "value.py").write_text("import math\nfrom collections import deque\n\n\n" + value)
    (package / "mlp.py").write_text(
        "import random\n\nfrom micrograd.value import Value\n\n\n" + network
    )
    return folder


def notebook_json(*cells: Any) -> str:
    """A notebook of ``cells`` (sources or nbformat cells), as its JSON text."""
    made = [_code(c) if isinstance(c, str) else c for c in cells]
    return json.dumps(nbformat.v4.new_notebook(cells=made))

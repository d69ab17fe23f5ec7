"""Notebooks and scripts as students write them: how intake reads them, what the sandbox
reports about their top-level code, and the words the host writes for it.

Grading tests (the real pipeline, the local sandbox) are in test_notebook_grading.py and,
in Docker, test_notebook_docker.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from intake_cases import ALL, VALUE, accepted, assert_imports, mlp, python, write_tree
from lecture_notebooks import lecture_notebook, notebook_json

from grader.intake.explain import CheckError, explain_toplevel
from grader.intake.magics import clean_cell
from grader.intake.model import Source, TopLevel
from grader.intake.statements import mark_needed, split

HARNESS = Path(__file__).resolve().parents[1] / "grader" / "harness"


# --------------------------------------------------------------------------- IPython syntax


def test_magic_lines_become_pass_and_keep_every_line_number() -> None:
    source = "%matplotlib inline\nfiles = !ls\nValue?\n  !pip install x\nx = 1 % 2\ny = a != b\n"
    clean = clean_cell(source)
    assert clean.source.splitlines() == [
        "pass  # IPython line left out by the grader",
        "pass  # IPython line left out by the grader",
        "pass  # IPython line left out by the grader",
        "  pass  # IPython line left out by the grader",
        "x = 1 % 2",
        "y = a != b",
    ]
    assert (clean.magic_lines, clean.shell_lines) == (2, 2)


def test_time_magics_keep_their_statement() -> None:
    clean = clean_cell("%time loss = train()\nfor k in r:\n    %timeit -n 3 step(k)\n")
    assert clean.source == "loss = train()\nfor k in r:\n    step(k)\n"
    assert clean.magic_lines == 0


@pytest.mark.parametrize("magic", ["%%time", "%%timeit -n 1", "%%capture out", "%%prun"])
def test_python_cell_magics_run_their_body(magic: str) -> None:
    clean = clean_cell(f"{magic}\nclass Value:\n    pass\n")
    assert clean.source == "\nclass Value:\n    pass\n"  # line 2 stays line 2
    assert clean.not_run is None and clean.written is None


def test_other_cell_magics_do_not_run_and_writefile_writes() -> None:
    assert clean_cell("%%bash\necho hi\n").not_run == "%%bash"
    written = clean_cell("%%writefile micrograd/engine.py\nimport math\n").written
    assert written is not None
    assert (written.path, written.text, written.append) == (
        "micrograd/engine.py",
        "import math\n",
        False,
    )
    appended = clean_cell('%%writefile -a "my file.py"\nx = 1\n').written
    assert appended is not None and (appended.path, appended.append) == ("my file.py", True)


def test_windows_line_endings_are_read_as_newlines() -> None:
    clean = clean_cell("%%time\r\nclass Value:\r\n    pass\r\n")
    assert clean.source == "\nclass Value:\n    pass\n"


# ------------------------------------------------------------------------------ statements


def test_statements_keep_decorators_and_lines_that_share_a_line() -> None:
    text = "import math; import random\n\n@decorate\nclass Value:\n    pass\n\nx = Value()\n"
    statements = split(text, "cell")
    assert statements is not None
    assert [(s.first, s.last) for s in statements] == [(1, 1), (3, 5), (7, 7)]
    assert statements[0].modules == {"math", "random"}
    assert split("def broken(:\n", "cell") is None


def test_what_the_classes_need_is_marked_across_cells() -> None:
    cells = [
        split("import math\nimport matplotlib.pyplot as plt\nSCALE = 2\n", "c1"),
        split("def helper(x):\n    return math.tanh(x) * SCALE\n", "c2"),
        split("class Value:\n    def tanh(self):\n        return helper(self.data)\n", "c3"),
        split("model = Value()\nfor k in range(10):\n    print(k)\n", "c4"),
    ]
    marked = mark_needed(cells)
    needed = [[s.needed for s in statements or ()] for statements in marked]
    assert needed == [[True, False, True], [True], [True], [False, False]]


# -------------------------------------------------------------------------------- notebooks


def test_the_lecture_notebook_is_read_as_jupyter_would_run_it(tmp_path: Path) -> None:
    source = lecture_notebook(tmp_path / "in" / "micrograd_lecture.ipynb")
    manifest, outcome = accepted(source, tmp_path)
    assert manifest.shape == "notebook"
    assert dict(manifest.classes) == dict.fromkeys(ALL, "student_notebook")
    # Colab's metadata is fine; the %%writefile cell's file is part of the submission.
    assert not any("does not fully follow" in note for note in manifest.notes)
    assert outcome.files() == {"student_notebook.py", "micrograd/engine.py"}
    assert (outcome.workspace / "micrograd/engine.py").read_text().startswith("import math\n")
    top = manifest.toplevel["student_notebook"]
    assert (top.kind, top.label) == ("notebook", "micrograd_lecture.ipynb")
    assert [source.cell for source in top.sources] == [
        2,
        3,
        4,
        6,
        7,
        8,
        9,
        10,
        11,
        14,
        15,
        16,
        17,
        18,
    ]
    run = python(
        "import sys; sys.path.append(sys.argv[1]); import student_notebook as nb; "
        "print(type(nb.MLP(3, [1])).__name__, nb.Value(2.0), len(nb.losses))",
        str(outcome.workspace),
    )
    assert run.stdout.splitlines()[-1] == "MLP Value(data=2.0000, grad=0.0000) 40", run.stderr


def test_the_last_definition_of_a_class_wins(tmp_path: Path) -> None:
    broken = "class Value:\n    def __init__(self, data):\n        raise RuntimeError('old')\n"
    files = {"hw.ipynb": notebook_json(broken, VALUE, mlp(""), "v = Value(1.0)\n")}
    manifest, outcome = accepted(write_tree(tmp_path / "in", files) / "hw.ipynb", tmp_path)
    run = python(
        "import sys; sys.path.append(sys.argv[1]); import student_notebook as nb; print(nb.v.data)",
        str(outcome.workspace),
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "1.0\n", "")


def test_a_notebook_that_writes_its_package_is_graded_from_the_files(tmp_path: Path) -> None:
    cells = [
        "%%writefile micrograd/engine.py\n" + VALUE,
        "%%writefile micrograd/nn.py\n" + mlp("from micrograd.engine import Value"),
        "from micrograd.nn import MLP\nmodel = MLP(3, [1])\n",
    ]
    files = {"hw.ipynb": notebook_json(*cells)}
    manifest, outcome = accepted(write_tree(tmp_path / "in", files) / "hw.ipynb", tmp_path)
    assert dict(manifest.classes) == {"Value": "micrograd.engine"} | dict.fromkeys(
        ALL[1:], "micrograd.nn"
    )
    assert {"micrograd/__init__.py", "micrograd/engine.py", "micrograd/nn.py"} <= outcome.files()
    assert_imports(manifest, outcome.workspace)


def test_writefile_outside_the_folder_is_left_out(tmp_path: Path) -> None:
    files = {"hw.ipynb": notebook_json("%%writefile ../../etc/evil.py\nx = 1\n", VALUE)}
    manifest, outcome = accepted(write_tree(tmp_path / "in", files) / "hw.ipynb", tmp_path)
    assert outcome.files() == {"student_notebook.py"}
    assert any("not a relative path inside the notebook's folder" in n for n in manifest.notes)


def test_another_run_order_is_noted(tmp_path: Path) -> None:
    cells = [nbformat.v4.new_code_cell(text) for text in ("import math\n", VALUE, "x = 1\n")]
    for cell, count in zip(cells, (1, 5, 3), strict=True):
        cell["execution_count"] = count
    files = {"hw.ipynb": json.dumps(nbformat.v4.new_notebook(cells=cells))}
    manifest, _ = accepted(write_tree(tmp_path / "in", files) / "hw.ipynb", tmp_path)
    assert any(
        "last run in another order than they appear (cell 3 ran before cell 2)" in note
        for note in manifest.notes
    )


def test_markdown_comment_only_and_empty_cells_are_fine(tmp_path: Path) -> None:
    cells = [nbformat.v4.new_markdown_cell("# hi"), "# only a comment\n", "", VALUE, "   \n"]
    files = {"hw.ipynb": notebook_json(*cells)}
    manifest, outcome = accepted(write_tree(tmp_path / "in", files) / "hw.ipynb", tmp_path)
    assert manifest.notes == ()
    assert_imports(manifest, outcome.workspace)


# ------------------------------------------------------------------------------ stand-ins

STANDINS = """
import sys
sys.path.insert(0, sys.argv[1])
import standins
made = []
standins.install(standins.DEFAULT, lambda name, frame: made.append(name), lambda f: False)
import matplotlib.pyplot as plt
from graphviz import Digraph
from tqdm import tqdm, trange
from tqdm.auto import tqdm as auto
from google.colab import drive
from IPython.display import display, HTML
fig, ax = plt.subplots(figsize=(6, 4))
fig, (ax1, ax2) = plt.subplots(1, 2)
first, *rest, last = plt.subplots(4)
ax.plot([1, 2], [3, 4]); plt.rcParams['figure.figsize'] = (8, 6); plt.show()
assert list(plt.gca().lines) == [] and len(plt.figure()) == 0
dot = Digraph(format='svg', graph_attr={'rankdir': 'LR'})
dot.node(name='a', label='{ data %.4f }' % 2.0, shape='record'); dot.edge('a', 'b')
class Drawing(Digraph):
    def __init__(self):
        super().__init__(format='svg')
        self.kind = 'mine'
assert Drawing().kind == 'mine'
assert sum(tqdm(range(5))) == 10 and list(trange(3)) == [0, 1, 2] and list(auto('ab')) == ['a', 'b']
with tqdm(total=3) as bar:
    bar.update(1); bar.set_description('loss')
drive.mount('/content/drive')
display(HTML('<b>x</b>'))
for name in ('numpy', 'google.cloud'):
    try:
        __import__(name)
        raise SystemExit(name + ' got a stand-in')
    except ImportError:
        pass
print(' '.join(made))
"""


def test_stand_ins_do_nothing_but_unpack_iterate_and_wrap() -> None:
    # -S: no site-packages, so none of these libraries is installed.
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", STANDINS, str(HARNESS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [
        "matplotlib",
        "matplotlib.pyplot",
        "graphviz",
        "tqdm",
        "tqdm.auto",
        "google.colab",
        "IPython",
        "IPython.display",
    ]


def test_an_installed_package_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "graphviz.py").write_text("REAL = True\n")
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1]); sys.path.append(sys.argv[2])
        import standins
        made = []
        standins.install(["graphviz", "seaborn"], lambda n, f: made.append(n), lambda f: False)
        import graphviz, seaborn
        print(graphviz.REAL, made)
        """
    )
    run = python(script, str(HARNESS), str(tmp_path))
    assert run.stdout.strip() == "True ['seaborn']", run.stderr


# -------------------------------------------------------------------- the host's words


def _toplevel(*cells: str) -> dict[str, TopLevel]:
    texts = [split(text, f"cell {i}") for i, text in enumerate(cells, start=2)]
    sources = tuple(
        Source(i, text, statements)
        for i, (text, statements) in enumerate(zip(cells, mark_needed(texts), strict=True), 2)
    )
    return {"student_notebook": TopLevel("notebook", "hw.ipynb", sources)}


def _event(event: str, cell: int, line: int, **fields: object) -> dict[str, object]:
    return {"event": event, "module": "student_notebook", "cell": cell, "line": line, **fields}


LECTURE_CELLS = (
    "import numpy as np\nimport matplotlib.pyplot as plt\nimport math\n",  # cell 2
    VALUE,  # cell 3
    "a = Value(1.0)\nb = a + 2\nprint(b)\nxs = np.arange(3)\n",  # cell 4
)


def test_notes_are_grouped_and_consequences_told_with_their_cause() -> None:
    events = [
        _event("standin", 2, 2, name="matplotlib.pyplot"),
        _event("standin", 2, 2, name="matplotlib"),
        _event("raised", 2, 1, error="ModuleNotFoundError", name="numpy"),
        _event("raised", 4, 2, error="NameError", name="np"),  # b = a + 2 used np
        _event("raised", 4, 3, error="NameError", name="b"),  # print(b): b was never bound
        _event("raised", 4, 4, error="NameError", name="np"),
        _event("raised", 4, 1, error="ZeroDivisionError"),
    ]
    told = explain_toplevel(_toplevel(*LECTURE_CELLS), events, [], [])
    assert told.diagnosis is None  # no check failed because of numpy
    assert told.notes == (
        "cell 2, line 2: matplotlib is not available to the grader; plotting calls were ignored",
        "cell 2, line 1: your code imports numpy, which this course's grader does not provide; "
        "it and 3 later statements that used it were left out, and the rest ran",
        "cell 4, line 1: raised ZeroDivisionError; that statement was left out and the rest ran",
    )


def test_a_missing_package_the_checks_needed_is_the_diagnosis() -> None:
    events = [_event("raised", 2, 1, error="ModuleNotFoundError", name="numpy")]
    failed = [CheckError("NameError", "name 'np' is not defined")]
    told = explain_toplevel(_toplevel(*LECTURE_CELLS), events, [], failed)
    assert told.diagnosis is not None
    assert (told.diagnosis.kind, told.diagnosis.package) == ("missing_package", "numpy")
    assert (told.diagnosis.cell, told.diagnosis.line) == (2, 1)
    assert told.diagnosis.message.startswith(
        "your code imports numpy (cell 2, line 1), which this course's grader does not provide"
    )
    assert told.notes == ()  # told once: in the diagnosis


def test_a_package_imported_whole_module_is_diagnosed_from_the_check_error() -> None:
    failed = [
        CheckError(
            "SubmissionImportError",
            "importing micrograd.value failed: ModuleNotFoundError: No module named 'numpy'",
            "ModuleNotFoundError",
            "No module named 'numpy'",
        )
    ]
    told = explain_toplevel({}, [], [], failed, imported={"numpy", "math"})
    assert told.diagnosis is not None and told.diagnosis.package == "numpy"
    assert told.diagnosis.message.startswith("your code imports numpy, which")
    # A module the submission does not import is not blamed on it.
    assert explain_toplevel({}, [], [], failed, imported={"math"}).diagnosis is None


def test_forged_or_impossible_facts_are_dropped() -> None:
    events = [
        _event("raised", 9, 1, error="NameError"),  # no cell 9
        _event("raised", 2, 99, error="NameError"),  # cell 2 has 3 lines
        {**_event("raised", 2, 1, error="NameError"), "module": "micrograd.value"},
        _event("standin", 2, 1, name="numpy"),  # not a library that gets a stand-in
        _event("standin", 2, 1, name="plotly"),  # only if staff list it
    ]
    assert explain_toplevel(_toplevel(*LECTURE_CELLS), events, [], []).notes == ()
    told = explain_toplevel(_toplevel(*LECTURE_CELLS), events[-1:], [], [], standins=["plotly"])
    assert told.notes == (
        "cell 2, line 1: plotly is not available to the grader; calls to it did nothing",
    )


def test_a_statement_left_out_for_running_too_long_is_the_diagnosis() -> None:
    toplevel = _toplevel(*LECTURE_CELLS, "while True:\n    pass\n")
    told = explain_toplevel(
        toplevel, [], [("student_notebook", 5, 1, "timeout")], [], import_seconds=20
    )
    assert told.diagnosis is not None
    assert (told.diagnosis.kind, told.diagnosis.cell, told.diagnosis.line) == ("long_running", 5, 1)
    assert told.diagnosis.message.startswith(
        "cell 5, line 1 ran longer than the grader allows for top-level code (20 s)"
    )


def test_many_kinds_of_exception_are_counted_not_listed() -> None:
    cells = "\n".join(f"x{i} = {i}" for i in range(1, 9)) + "\n"
    events = [_event("raised", 2, i, error=f"Error{i}") for i in range(1, 9)]
    told = explain_toplevel(_toplevel(cells), events, [], [])
    assert len(told.notes) == 7
    assert told.notes[-1] == "statements raised 2 more kinds of exception and were left out"

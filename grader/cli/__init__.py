"""The ``micrograde`` command line: a thin layer over the library.

main.py       the command group and the entry point (errors -> messages, exit codes)
grade.py      grade, selfcheck
batch.py      batch (progress display in progress.py)
platforms.py  gradescope, export
student.py    handout, check
sandbox.py    sandbox build | check | clean
setup.py      the grading setup every grading command shares
options.py    options shared by the commands (one definition each)
summary.py    the terminal summaries
"""

from grader.cli.main import cli, main

__all__ = ["cli", "main"]

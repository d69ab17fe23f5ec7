"""``python -m grader`` is the ``micrograde`` command."""

from grader.cli import main

main()

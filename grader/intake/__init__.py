"""Intake: turn whatever a student hands in into a clean workspace and a manifest.

``prepare_submission`` accepts a folder, a .py file, a .ipynb notebook or a .zip archive
(of any of those, possibly wrapped in one more folder, with LMS junk such as ``__MACOSX/``)
and writes only the student's Python sources into an empty workspace, keeping their layout
so their own imports keep working. The returned ``Manifest`` says which module defines each
of ``Value``, ``Neuron``, ``Layer`` and ``MLP``. A submission with nothing gradable, or an
archive that is corrupt, oversized or tries to write outside its folder, raises
``SubmissionRejected`` with a reason written for the student.

    gather   (folder.py, archive.py, collect.py)  read sources into memory under IntakeLimits
    decide   (layout.py, locate.py, notebook.py)  strip wrappers, find classes, fix names
    write    (paths.py)                           write the files, never outside the workspace
"""

from grader.intake.model import IntakeLimits, Manifest, Shape
from grader.intake.prepare import prepare_submission

__all__ = ["IntakeLimits", "Manifest", "Shape", "prepare_submission"]

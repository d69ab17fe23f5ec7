"""Lecture-style notebooks graded in the real Docker sandbox, whose image has none of the
plotting libraries: full marks with the notes, one diagnosis for a package the classes
really need, and full marks once staff allow it (an image built with
``[sandbox] packages = ["numpy"]``, tests/data/numpy-settings.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lecture_notebooks import lecture_notebook, plain_package

from grader.errors import SandboxUnavailableError
from grader.exercise import load_exercise
from grader.models import GradeResult
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.sandbox.docker import DockerSandbox
from grader.sandbox.image import expected_tag
from grader.settings import Settings, load_settings

pytestmark = [pytest.mark.docker, pytest.mark.slow]
NUMPY_SETTINGS = Path(__file__).parent / "data" / "numpy-settings.toml"

NOTES = [
    "cell 2, line 3: matplotlib is not available to the grader; plotting calls were ignored",
    "cell 2, line 4: graphviz is not available to the grader; graph drawing calls were ignored",
    "cell 2, line 7: tqdm is not available to the grader; progress bars were left out (the "
    "loops themselves still ran)",
    "cell 18, line 1: google.colab is not available to the grader; Colab calls such as "
    "drive.mount did nothing",
    # The lecture plots np.arange: the import and what used it are left out, and told once.
    "cell 2, line 2: your code imports numpy, which this course's grader does not provide; "
    "it and 3 later statements that used it were left out, and the rest ran",
]


def _grade(source: Path, sandbox: Any, settings: Settings | None = None) -> GradeResult:
    exercise = load_exercise()
    return grade_submission(
        GradeRequest(source, seed=21),
        exercise=exercise,
        rubric=load_rubric(exercise),
        sandbox=sandbox,
        settings=settings or load_settings(),
    )


def test_a_lecture_notebook_gets_full_marks_in_docker_with_the_notes(
    docker_sandbox: Any, docker_clean_host: Path, tmp_path: Path
) -> None:
    notebook = _grade(lecture_notebook(tmp_path / "lecture.ipynb"), docker_sandbox)
    package = _grade(plain_package(tmp_path / "package"), docker_sandbox)
    assert (notebook.sandbox, notebook.score, notebook.max_score) == ("docker", 100, 100)
    assert package.score == notebook.score
    assert [note for note in notebook.notes if "grader" in note] == NOTES
    assert notebook.diagnosis is None


def test_a_package_the_classes_need_gets_one_diagnosis_naming_it(
    docker_sandbox: Any, docker_clean_host: Path, tmp_path: Path
) -> None:
    result = _grade(lecture_notebook(tmp_path / "lecture.ipynb", add_with_np=True), docker_sandbox)
    # Charged once, in the check that owns __add__'s value; the checks that only failed
    # through it pass (a counterfactual run with __add__ replaced showed the rest right).
    adding = next(c for s in result.steps for c in s.checks if c.id == "add_two_values")
    assert adding.status != "passed" and result.score < 100
    assert result.diagnosis is not None
    assert (result.diagnosis.kind, result.diagnosis.package) == ("missing_package", "numpy")
    assert (result.diagnosis.cell, result.diagnosis.line) == (2, 2)
    said = "your code imports numpy (cell 2, line 2), which this course's grader does not provide"
    assert result.diagnosis.message.startswith(said)
    assert result.message.endswith(result.diagnosis.message)
    # Told once: no note repeats it, nor the NameErrors that followed from it.
    assert not [note for note in result.notes if "numpy" in note or "NameError" in note]


def test_with_numpy_allowed_by_staff_the_same_notebook_gets_full_marks(
    numpy_docker_sandbox: Any, docker_clean_host: Path, tmp_path: Path
) -> None:
    settings = load_settings(NUMPY_SETTINGS)
    result = _grade(
        lecture_notebook(tmp_path / "lecture.ipynb", add_with_np=True),
        numpy_docker_sandbox,
        settings,
    )
    assert (result.score, result.max_score, result.diagnosis) == (100, 100, None)
    exercise = load_exercise()
    assert numpy_docker_sandbox.image == expected_tag(exercise, ["numpy"])
    assert numpy_docker_sandbox.image != expected_tag(exercise)


def test_grading_without_the_image_for_the_allowed_packages_names_the_fix(
    docker_sandbox: Any, tmp_path: Path
) -> None:
    settings = tmp_path / "course.toml"
    settings.write_text('[sandbox]\npackages = ["no-such-package-for-micrograde==0.1"]\n')
    with pytest.raises(SandboxUnavailableError) as missing:
        DockerSandbox.connect(load_exercise(), load_settings(settings))
    assert "with the packages [sandbox] packages allows (no-such-package-for-micrograde" in str(
        missing.value
    )
    assert str(missing.value).endswith(
        "run `micrograde sandbox build` (add --offline where no registry answers) with the "
        "same --settings file"
    )

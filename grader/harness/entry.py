"""Entry point inside the sandbox: ``python -I <harness>/mg_run.py``.

Copied to the root of the harness bundle as ``mg_run.py``. It keeps the original stdout
for the record stream and points file descriptor 1 at stderr, so nothing that prints
outside pytest's capture can interleave with the records; then it runs pytest on the
staged tests with a fixed configuration that no file of the submission can change
(``--noconftest``, our own ini file and rootdir, no plugin autoloading, no cache).
"""

import json
import os
import sys


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    os.environ["MG_RECORD_FD"] = str(os.dup(1))
    os.dup2(2, 1)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    job = json.loads(os.environ["MG_JOB"])
    import pytest

    steps = os.path.join(here, "steps")
    files = [os.path.join(steps, name) for name in job["files"]]
    return int(
        pytest.main(
            [
                *files,
                "-c",
                os.path.join(here, "pytest.ini"),
                "--rootdir",
                here,
                "--noconftest",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:stepwise",
                "-p",
                "mg_harness.plugin",
                "-p",
                "pytest_jsonreport.plugin",
                "--json-report",
                "--json-report-file=none",
                "--json-report-omit",
                "collectors",
                "log",
                "warnings",
                "keywords",
                "--import-mode=importlib",
                "-q",
                "--tb=short",
                "--no-header",
            ]
        )
    )


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# One submission, run the way Gradescope's harness runs it (a test helper in the container):
# the student's files in /autograder/submission, Gradescope's submission_metadata.json
# beside it, then /autograder/run_autograder as root from /autograder. A watcher (root)
# samples the sandbox user's processes meanwhile. Prints one JSON line: run_autograder's
# exit status, results.json as text, the end of its stdout, and what the watcher saw.
set -u
cp -R /mnt/submission/. /autograder/submission/
cat >/autograder/submission_metadata.json <<'JSON'
{"id": 1, "users": [{"name": "A Student", "email": "student@example.org"}],
 "previous_submissions": [{"results": {"tests": [{"name": "SECRET-METADATA"}]}}]}
JSON
python3 /opt/mgtest/watch.py micrograde-student /tmp/watch.json &
watcher=$!
cd /autograder
./run_autograder >/autograder/results/stdout 2>&1
code=$?
kill -TERM "$watcher"
wait "$watcher"
python3 - "$code" <<'PY'
import json, sys
def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError as exc:
        return f"unreadable: {exc}"
with open("/tmp/watch.json") as handle:
    watch = json.load(handle)
print(json.dumps({
    "exit": int(sys.argv[1]),
    "results": read("/autograder/results/results.json"),
    "stdout": read("/autograder/results/stdout")[-6000:],
    "watch": watch,
}))
PY

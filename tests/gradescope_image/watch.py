"""Watch a user's processes until SIGTERM (a test helper, run as root in the container).

    python3 watch.py USER OUT

Every 20 ms it counts the live (non-zombie) processes whose uid is USER's and notes the
words starting with "mg-" in their command lines. On SIGTERM it writes OUT:
{"max": most at once, "markers": [...], "left": live processes at the end}.
"""

import json
import os
import pwd
import signal
import sys
import time

UID = str(pwd.getpwnam(sys.argv[1]).pw_uid)
stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))


def processes():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        if UID in fields.get("Uid", "").split() and not fields["State"].strip().startswith("Z"):
            yield pid


most, markers, seen = 0, set(), set()
while not stopping:
    live = list(processes())
    most = max(most, len(live))
    for pid in set(live) - seen:
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                words = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        markers.update(word for word in words if word.startswith("mg-"))
    time.sleep(0.02)
with open(sys.argv[2], "w") as handle:
    json.dump({"max": most, "markers": sorted(markers), "left": len(list(processes()))}, handle)

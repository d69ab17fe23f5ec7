"""Start a process the way a terminal would, for tests that press Ctrl-C on it.

A process inherits which signals it ignores and blocks from the one that starts it, and
Python turns SIGINT into KeyboardInterrupt only when it starts with SIGINT at its default.
A test runner's worker does not promise that default (in the full suite the Ctrl-C tests'
grader processes did not react to SIGINT, while alone they did), and a shell always gives
it to the commands it starts; so do these tests.
"""

from __future__ import annotations

import signal


def like_a_terminal() -> None:
    """``preexec_fn`` for ``subprocess.Popen``: SIGINT at its default, and not blocked."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

"""Where a check that runs too long is looping: the deepest frame that stays the same.

faulthandler's dump (plugin.py) shows the stack at one instant. In a ``backward()`` that
calls ``node._backward()`` forever, that instant is most often inside a ``_backward`` that
returns at once, and the dump names an operator instead of the loop. So, when faulthandler
dumps, this watcher also samples the check's thread for a moment and writes, in the same
format, the stack from the deepest frame that was the same frame object in every sample:
a call that returns makes a new frame each time, a frame that loops stays. It writes after
faulthandler, so its dump is the last one, the one the host reads
(grader/fairness/location.py); when the check's thread holds the interpreter in C code,
this thread never runs and faulthandler's dump stands.

Like the dump, this is a claim of the sandbox: it chooses which method a timeout is
evidence about, never a verdict.
"""

from __future__ import annotations

import os
import sys
import threading
from types import FrameType

# Few samples, soon: each waits for the interpreter lock the looping thread holds, and all
# must be done before the host's limit, on a machine that may be busy.
SAMPLES = 8
HEADER = "Timeout (sampled: the frame that stayed)!"


class LoopWatch:
    """Samples the thread that called ``start`` once it has run ``seconds``, and again every
    ``seconds``, until ``stop``."""

    def __init__(self, fd: int, seconds: float) -> None:
        self._fd = fd
        self._seconds = seconds
        self._window = min(0.25, seconds / 16)  # well before the limit (at seconds / 0.8)
        self._stopped: threading.Event | None = None

    def start(self) -> None:
        self.stop()
        stopped = threading.Event()
        self._stopped = stopped
        target = threading.get_ident()
        threading.Thread(
            target=self._watch, args=(target, stopped), name="mg-loopwatch", daemon=True
        ).start()

    def stop(self) -> None:
        if self._stopped is not None:
            self._stopped.set()
            self._stopped = None

    def _watch(self, target: int, stopped: threading.Event) -> None:
        while not stopped.wait(self._seconds):
            stayed = _stayed(target, SAMPLES, self._window / SAMPLES, stopped)
            if stayed and not stopped.is_set():
                _write(self._fd, target, stayed)


def _stayed(target: int, samples: int, pause: float, stopped: threading.Event) -> list[FrameType]:
    """The frames (outermost first) that were the same objects in every sample."""
    common: list[FrameType] | None = None
    for _ in range(samples):
        frame = sys._current_frames().get(target)
        stack: list[FrameType] = []
        while frame is not None:
            stack.append(frame)
            frame = frame.f_back
        stack.reverse()
        if common is None:
            common = stack
        else:
            kept = 0
            while kept < min(len(common), len(stack)) and common[kept] is stack[kept]:
                kept += 1
            del common[kept:]
        if stopped.wait(pause):
            return []
    return common or []


def _write(fd: int, target: int, frames: list[FrameType]) -> None:
    lines = [HEADER, f"Thread {target:#x} (most recent call first):"]
    lines += [
        f'  File "{f.f_code.co_filename}", line {f.f_lineno} in {f.f_code.co_name}'
        for f in reversed(frames)
    ]
    try:
        os.write(fd, ("\n".join(lines) + "\n\n").encode("utf-8", "replace"))
    except OSError:
        pass

"""Describe an exception raised by student code: type, message, and *their* frames only.

Frames of pytest, of the harness and of the staged tests are noise to a student; the frames
of files inside their workspace (or of their notebook's cells) say where to look. The
innermost of those frames names the method at fault.
"""

from __future__ import annotations

import linecache
import re
from types import TracebackType
from typing import Any

MAX_FRAMES = 25
_QUALNAME = re.compile(r"^[A-Za-z_]\w*\.[A-Za-z_]\w*( backward)?$")


def describe_exception(exc: BaseException, workspace: str) -> dict[str, Any]:
    """A JSON-ready account of ``exc`` (following ``raise ... from``) for the host."""
    chain = _chain(exc)
    frames: list[dict[str, Any]] = []
    for link in chain:
        frames.extend(_student_frames(link.__traceback__, workspace))
    root = chain[-1]
    info: dict[str, Any] = {
        "type": _type_name(exc),
        "message": _message(exc),
        "frames": frames[-MAX_FRAMES:],
    }
    if root is not exc:
        info["cause"] = {"type": _type_name(root), "message": _message(root)}
    missing = _not_implemented(chain, frames)
    if missing:
        info["not_implemented"] = missing
    guarded = next((link for link in chain if type(link).__name__ == "Guarded"), None)
    method = getattr(guarded, "method", None)
    if type(method) is str and _QUALNAME.match(method):
        info["guarded"] = method  # it looped or crashed in an earlier check
    return info


def _chain(exc: BaseException) -> list[BaseException]:
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 5:
        chain.append(chain[-1].__cause__)
    return chain


def _student_frames(tb: TracebackType | None, workspace: str) -> list[dict[str, Any]]:
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename
        if filename.startswith((workspace, "<notebook cell")):
            frames.append(
                {
                    "file": filename[len(workspace) :].lstrip("/")
                    if filename.startswith(workspace)
                    else filename,
                    "line": tb.tb_lineno,
                    "function": getattr(code, "co_qualname", code.co_name),
                    "code": linecache.getline(filename, tb.tb_lineno).strip()[:300],
                }
            )
        tb = tb.tb_next
    return frames


def _not_implemented(chain: list[BaseException], frames: list[dict[str, Any]]) -> str | None:
    for link in chain:
        if isinstance(link, NotImplementedError):
            message = _message(link)
            if _QUALNAME.match(message):
                return message
            return frames[-1]["function"] if frames else "a method"
    return None


def _type_name(exc: BaseException) -> str:
    return type(exc).__name__[:100]


def _message(exc: BaseException) -> str:
    try:
        return str(exc)[:1000]
    except Exception:  # noqa: BLE001 - a student's __str__ may raise anything
        return "<the exception could not be printed>"

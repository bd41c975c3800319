"""The supervisor's status file: what ``jiesu up`` knows about its children.

The supervisor (``bot/cli/supervisor.py``) rewrites ``<data dir>/run/supervisor.json``
whenever a child changes state; the gateway's ``/healthz`` reads it, whether the gateway
runs inside the supervisor's process (``jiesu up``) or as one of its children.  The file
is replaced atomically, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TypedDict

from hotline.states import TextEnum

__all__ = [
    "ChildState",
    "ChildStatus",
    "exit_reason",
    "read_status",
    "status_path",
    "supervisor_alive",
    "write_status",
]


class ChildState(TextEnum):
    """Where a supervised child is in its life."""

    STARTING = "starting"
    UP = "up"
    DOWN = "down"  # exited; a restart is scheduled
    STOPPED = "stopped"  # stopped on purpose


class ChildStatus(TypedDict):
    """One child as ``/healthz`` reports it."""

    state: str
    pid: int | None
    restarts: int
    last_exit: str | None
    last_exit_at: str | None
    next_restart_in_s: float | None
    # The warm spare (Rasa): "ready", "warming" or None.
    spare: str | None


def status_path(data_dir: Path) -> Path:
    """Where the supervisor of the stack using ``data_dir`` writes its status."""
    return data_dir / "run" / "supervisor.json"


def exit_reason(returncode: int) -> str:
    """``exit code 1`` or ``killed by SIGKILL`` for a ``Popen.returncode``."""
    if returncode < 0:
        import signal

        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exit code {returncode}"


def write_status(path: Path, children: dict[str, ChildStatus]) -> None:
    """Replace the status file with ``children`` (atomic rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(
        json.dumps({"supervisor_pid": os.getpid(), "children": children}, ensure_ascii=False),
        encoding="utf-8",
    )
    os.replace(tmp, path)


def supervisor_alive(pid: Any) -> bool:
    """True when process ``pid`` exists (the status file is not left over from a dead run)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(path: Path) -> dict[str, ChildStatus] | None:
    """The children of a live supervisor, or ``None`` (no file, unreadable, or stale)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not supervisor_alive(data.get("supervisor_pid")):
        return None
    children = data.get("children")
    return children if isinstance(children, dict) else None

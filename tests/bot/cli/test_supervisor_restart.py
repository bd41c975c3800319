"""The supervisor's watchdog restarts a dead child with capped backoff and reports it.

Real child processes (a sleeping Python), real signals; the watchdog's clock is passed
to :meth:`Stack.tick`, so the backoff is checked without waiting for it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.supervisor import ManagedProcess, Stack, restart_delay
from hotline.config import Config
from hotline.supervision import ChildState, read_status


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    st = Stack(Config(data_dir=tmp_path), Path("unused.tar.gz"), supervise=False)
    child = ManagedProcess(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(600)"],
        dict(os.environ),
        tmp_path / "logs" / "sleeper.log",
    )
    st.processes.append(child)
    child.start()
    child.mark_up()
    yield st
    st.stop()


def _kill(p: ManagedProcess, sig: signal.Signals = signal.SIGKILL) -> None:
    assert p.proc is not None
    os.kill(p.proc.pid, sig)
    p.proc.wait(timeout=10)


def test_backoff_doubles_and_is_capped() -> None:
    assert [restart_delay(n, 0.5, 4.0) for n in (1, 2, 3, 4, 5, 9)] == [
        0.5, 1.0, 2.0, 4.0, 4.0, 4.0,
    ]  # fmt: skip


def test_killed_child_is_restarted_after_its_backoff_and_reported(stack: Stack) -> None:
    child = stack.child("sleeper")
    first_pid = child.pid
    _kill(child)
    t0 = child.started_at + 1.0
    assert stack.tick(t0)
    assert child.state is ChildState.DOWN
    assert child.last_exit == "killed by SIGKILL"
    assert child.restart_at == pytest.approx(t0 + stack.restart_base_s)
    assert not stack.tick(t0 + stack.restart_base_s / 2)  # still backing off
    assert child.restarts == 0
    stack.tick(t0 + stack.restart_base_s)
    assert child.restarts == 1 and child.running and child.pid != first_pid
    stack.tick()  # no ready URL: up at the next look
    assert child.state is ChildState.UP
    stack._write_status()
    status = read_status(stack.status_file)
    assert status is not None
    assert status["sleeper"]["restarts"] == 1
    assert status["sleeper"]["last_exit"] == "killed by SIGKILL"
    assert status["sleeper"]["state"] == "up"
    assert "killed by SIGKILL" in (stack.config.data_dir / "logs/supervisor.log").read_text()


def test_a_child_that_keeps_dying_waits_longer_each_time(stack: Stack) -> None:
    child = stack.child("sleeper")
    delays = []
    for _ in range(4):
        _kill(child, signal.SIGTERM)
        now = child.started_at + 0.1  # died at once: no stable period
        stack.tick(now)
        assert child.last_exit == "killed by SIGTERM"
        assert child.restart_at is not None
        delays.append(round(child.restart_at - now, 3))
        stack.tick(child.restart_at)
        assert child.running
    assert delays == [0.5, 1.0, 2.0, 4.0]


def test_a_child_that_ran_long_enough_starts_again_from_the_short_delay(stack: Stack) -> None:
    child = stack.child("sleeper")
    child.failures = 5
    _kill(child)
    assert child.up_since is not None
    now = child.up_since + stack.stable_s + 1
    stack.tick(now)
    assert child.restart_at == pytest.approx(now + stack.restart_base_s)


def test_exit_code_is_the_reason_and_a_stopped_child_stays_stopped(tmp_path: Path) -> None:
    st = Stack(Config(data_dir=tmp_path), Path("unused.tar.gz"), supervise=False)
    child = ManagedProcess(
        "quitter",
        [sys.executable, "-c", "raise SystemExit(3)"],
        dict(os.environ),
        tmp_path / "q.log",
    )
    st.processes.append(child)
    child.start()
    assert child.proc is not None
    child.proc.wait(timeout=30)
    st.tick(child.started_at + 1)
    assert child.last_exit == "exit code 3"
    st.stop()
    assert not st.tick(child.started_at + 100)
    assert child.state is ChildState.STOPPED and child.restarts == 0

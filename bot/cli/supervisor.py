"""Start and stop the stack's processes: Rasa server, action server, gateway.

``jiesu up`` and the test suite use the same code, so what tests exercise is
what residents get.  Children log to ``<data dir>/logs``; they are stopped
with SIGTERM (then SIGKILL) on exit or Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hotline.config import PROJECT_ROOT, Config

__all__ = ["ManagedProcess", "Stack", "rasa_env", "wait_http", "StartupFailed"]


class StartupFailed(RuntimeError):
    """A child process exited or did not become ready in time."""


def rasa_env(cfg: Config, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Rasa and the action server, defaults for endpoints.yml filled in."""
    env = dict(os.environ if base is None else base)
    env.setdefault("JIESU_ACTION_URL", f"http://127.0.0.1:{cfg.action_port}/webhook")
    env.setdefault("JIESU_TRACKER_URL", f"sqlite:///{cfg.data_dir / 'tracker.db'}")
    env.setdefault("JIESU_LOCK_STORE", "in_memory")
    env.setdefault("JIESU_REDIS_HOST", "127.0.0.1")
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    # One BLAS/OpenMP thread: the per-turn matrices are tiny, and idle BLAS threads
    # spin — measured, they doubled Rasa's CPU per turn for the same latency
    # (benchmarks/turn_latency.py, docs/performance.md).  Set them to override.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers 200; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StartupFailed(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(delay)
        delay = min(0.5, delay * 1.5)
    raise StartupFailed(f"{url} not ready after {timeout_s:.0f}s")


def warm_up(rasa_url: str) -> None:
    """Parse one message so lazily loaded parts (jieba, jionlp) load before residents arrive."""
    body = json.dumps({"text": "你好，小区门口的路灯坏了，电话13800138000"}).encode()
    req = urllib.request.Request(
        f"{rasa_url}/model/parse", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        resp.read()


@dataclass
class ManagedProcess:
    name: str
    cmd: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 — the child owns it
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class Stack:
    """The Rasa server and action server (and optionally the gateway) as children."""

    config: Config
    model: Path
    with_gateway: bool = False
    env: dict[str, str] | None = None
    processes: list[ManagedProcess] = field(default_factory=list)
    # Seconds from start() until each part answered (for benchmarks and logs).
    ready_after_s: dict[str, float] = field(default_factory=dict)

    def _proc(self, name: str, cmd: list[str], env: dict[str, str]) -> ManagedProcess:
        p = ManagedProcess(name, cmd, env, self.config.data_dir / "logs" / f"{name}.log")
        self.processes.append(p)
        return p

    def start(self, timeout_s: float = 120.0) -> None:
        cfg = self.config
        env = rasa_env(cfg, self.env)
        py = sys.executable
        actions = self._proc(
            "actions",
            [py, "-m", "rasa_sdk", "--actions", "actions", "--port", str(cfg.action_port)],
            env,
        )
        rasa = self._proc(
            "rasa",
            [
                py,
                "-m",
                "bot.rasa_runtime.server",
                "run",
                "--enable-api",
                "--model",
                str(self.model),
                "--port",
                str(cfg.rasa_port),
                "--interface",
                "127.0.0.1",
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
            ],
            env,
        )
        t0 = time.monotonic()
        actions.start()
        rasa.start()
        try:
            wait_http(f"http://127.0.0.1:{cfg.action_port}/health", timeout_s, actions.proc)
            self.ready_after_s["actions"] = time.monotonic() - t0
            wait_http(f"http://127.0.0.1:{cfg.rasa_port}/status", timeout_s, rasa.proc)
            self.ready_after_s["rasa"] = time.monotonic() - t0
            warm_up(f"http://127.0.0.1:{cfg.rasa_port}")
            self.ready_after_s["rasa_warm"] = time.monotonic() - t0
            if self.with_gateway:
                self.start_gateway(timeout_s)
                self.ready_after_s["gateway"] = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise

    def start_gateway(self, timeout_s: float = 60.0) -> ManagedProcess:
        """Start (or restart) the gateway child and wait until it is healthy."""
        self.processes = [p for p in self.processes if p.name != "gateway" or p.running]
        gw = self._proc(
            "gateway",
            [sys.executable, "-m", "bot.cli.main", "gateway"],
            rasa_env(self.config, self.env),
        )
        gw.start()
        wait_http(f"http://127.0.0.1:{self.config.port}/healthz", timeout_s, gw.proc)
        return gw

    def stop_gateway(self) -> None:
        for p in self.processes:
            if p.name == "gateway":
                p.stop()

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.stop()

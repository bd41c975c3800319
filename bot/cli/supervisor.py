"""Start, watch and stop the stack's processes: Rasa server, action server, gateway.

``jiesu up`` and the test suite use the same code, so what tests exercise is
what residents get.  Children log to ``<data dir>/logs``; a child that dies is
restarted with capped exponential backoff (``logs/supervisor.log`` says why it
died, ``/healthz`` shows the restarts); they are stopped with SIGTERM (then
SIGKILL) on exit or Ctrl-C.  Production runs the same restart logic under
systemd (``deploy/jiesu.service``, ``docs/reliability.md``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bot.rasa_runtime.server import STANDBY_FLAG
from hotline.config import PROJECT_ROOT, Config
from hotline.secret_keys import is_loopback
from hotline.supervision import ChildState, ChildStatus, exit_reason, status_path, write_status

__all__ = [
    "ManagedProcess",
    "Stack",
    "StartupFailed",
    "rasa_env",
    "restart_delay",
    "wait_http",
]

log = logging.getLogger("jiesu.supervisor")
WATCH_INTERVAL_S = 0.2
# A warm spare that died this often by itself is not started again.
MAX_SPARE_DEATHS = 3


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


def warm_up(rasa_url: str, token: str = "") -> None:
    """Parse one message so lazily loaded parts (jieba, jionlp) load before residents arrive."""
    body = json.dumps({"text": "你好，小区门口的路灯坏了，电话13800138000"}).encode()
    query = "?" + urllib.parse.urlencode({"token": token}) if token else ""
    req = urllib.request.Request(
        f"{rasa_url}/model/parse{query}", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        resp.read()


@dataclass
class ManagedProcess:
    """One child process, restarted by the :class:`Stack` watchdog when it dies.

    ``ready_url`` answers 200 once the child serves; ``warm`` (optional) runs once after
    that, before the child counts as up.  With ``standby_arg`` (the Rasa server), a warm
    spare — the same command with that first argument, blocked on stdin after its
    imports — is kept ready, and a restart activates it by writing ``go``.
    """

    name: str
    cmd: list[str]
    env: dict[str, str]
    log_path: Path
    ready_url: str | None = None
    warm: Callable[[], None] | None = None
    proc: subprocess.Popen[bytes] | None = None
    state: ChildState = ChildState.STARTING
    restarts: int = 0
    last_exit: str | None = None
    last_exit_at: str | None = None
    # Deaths in a row without staying healthy for ``Stack.stable_s`` (drives the backoff).
    failures: int = 0
    started_at: float = 0.0
    # When the child last became healthy (None while starting).
    up_since: float | None = None
    restart_at: float | None = None
    standby_arg: str | None = None
    spare: subprocess.Popen[bytes] | None = None
    spare_deaths: int = 0

    def _spawn(
        self, cmd: list[str], stdin: int, extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.spare_ready_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 — the child owns it
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env={**self.env, **(extra_env or {})},
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return proc

    def start(self) -> None:
        """Start the child: activate the warm spare if there is one alive, else cold."""
        spare, self.spare = self.spare, None
        self.proc = None
        if spare is not None and spare.poll() is None and spare.stdin is not None:
            try:
                spare.stdin.write(b"go\n")
                spare.stdin.close()
                self.proc = spare
            except OSError:  # it died just now: start cold
                pass
        if self.proc is None:
            self.proc = self._spawn(self.cmd, subprocess.DEVNULL)
        self.state = ChildState.STARTING
        self.started_at = time.monotonic()
        self.up_since = None
        self.restart_at = None

    def mark_up(self) -> None:
        self.state = ChildState.UP
        self.up_since = time.monotonic()

    def ensure_spare(self) -> bool:
        """Start a warm spare if this child has none alive; True when one was started."""
        if self.standby_arg is None or (self.spare is not None and self.spare.poll() is None):
            return False
        if self.spare is not None:  # the last spare died on its own
            self.spare_deaths += 1
            self.spare = None
        if self.spare_deaths >= MAX_SPARE_DEATHS:
            return False  # restarts go cold; the log of the child says why
        self.spare = self._spawn(
            [*self.cmd[:3], self.standby_arg, *self.cmd[3:]],
            subprocess.PIPE,
            {"JIESU_STANDBY_READY_FILE": str(self.spare_ready_file)},
        )
        return True

    @property
    def spare_ready_file(self) -> Path:
        return self.log_path.parent.parent / "run" / f"{self.name}-spare.ready"

    @property
    def spare_state(self) -> str | None:
        """``ready`` (imports done, waiting), ``warming``, or ``None`` (no spare)."""
        spare = self.spare
        if spare is None or spare.poll() is not None:
            return None
        try:
            ready = self.spare_ready_file.read_text(encoding="ascii").strip() == str(spare.pid)
        except OSError:
            ready = False
        return "ready" if ready else "warming"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def status(self, now: float) -> ChildStatus:
        """This child as the status file and ``/healthz`` show it."""
        wait = None if self.restart_at is None else round(max(0.0, self.restart_at - now), 2)
        return {
            "state": self.state.value,
            "pid": self.proc.pid if self.proc is not None else None,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "last_exit_at": self.last_exit_at,
            "next_restart_in_s": wait,
            "spare": self.spare_state,
        }

    def probe(self) -> bool:
        """One quick readiness check (``ready_url`` answers 200)."""
        if self.ready_url is None:
            return True
        try:
            with urllib.request.urlopen(self.ready_url, timeout=1) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def stop(self, timeout_s: float = 10.0) -> None:
        self.state = ChildState.STOPPED
        self.restart_at = None
        spare, self.spare = self.spare, None
        if spare is not None and spare.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(spare.pid, signal.SIGKILL)
            spare.wait()
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


def restart_delay(failures: int, base_s: float, max_s: float) -> float:
    """Capped exponential backoff: ``base_s`` after the first death, doubling, ≤ ``max_s``."""
    return float(min(max_s, base_s * 2 ** max(0, failures - 1)))


@dataclass
class Stack:
    """The Rasa server and action server (and optionally the gateway) as children.

    After :meth:`start`, a watchdog thread restarts any child that dies, after a capped
    exponential backoff (``restart_base_s`` doubling up to ``restart_max_s``; a child that
    was healthy for ``stable_s`` before it died starts again from ``restart_base_s``: only a
    crash loop backs off).  Every change of state
    is logged with its reason (exit code or signal) to ``logs/supervisor.log`` and written
    to the status file that ``/healthz`` reports (:mod:`hotline.supervision`).
    """

    config: Config
    model: Path
    with_gateway: bool = False
    env: dict[str, str] | None = None
    supervise: bool = True
    restart_base_s: float = 0.5
    restart_max_s: float = 30.0
    stable_s: float = 10.0
    # Keep a warm spare Rasa server (imports done, waiting on stdin): a restart then
    # takes the model load only.  Costs one idle process (~0.4 GB).
    rasa_standby: bool = True
    # Rasa servers to run (``jiesu up --rasa-workers N``): ports JIESU_RASA_PORT, +1, …; the
    # gateway pins each conversation to one of them (bot/gateway/rasa_pool.py).
    rasa_workers: int = 1
    processes: list[ManagedProcess] = field(default_factory=list)
    # Seconds from start() until each part answered (for benchmarks and logs).
    ready_after_s: dict[str, float] = field(default_factory=dict)
    # Rasa's --auth-token: JIESU_RASA_TOKEN, else a new random one per start.
    rasa_token: str = ""
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _halt: threading.Event = field(default_factory=threading.Event, repr=False)
    _watchdog: threading.Thread | None = field(default=None, repr=False)
    _last_status: str = field(default="", repr=False)

    @property
    def status_file(self) -> Path:
        return status_path(self.config.data_dir)

    def _proc(
        self,
        name: str,
        cmd: list[str],
        env: dict[str, str],
        ready_url: str | None,
        warm: Callable[[], None] | None = None,
    ) -> ManagedProcess:
        p = ManagedProcess(
            name, cmd, env, self.config.data_dir / "logs" / f"{name}.log", ready_url, warm
        )
        with self._lock:
            self.processes.append(p)
        return p

    def child_env(self) -> dict[str, str]:
        """The environment every child gets (the Rasa token included)."""
        env = rasa_env(self.config, self.env)
        env["JIESU_RASA_TOKEN"] = self.rasa_token
        if self.rasa_workers > 1:
            env["JIESU_RASA_URL"] = ",".join(self.rasa_urls)
        return env

    def start(self, timeout_s: float = 120.0) -> None:
        cfg = self.config
        base = dict(os.environ if self.env is None else self.env)
        self.rasa_token = base.get("JIESU_RASA_TOKEN") or secrets.token_urlsafe(24)
        env = self.child_env()
        py = sys.executable
        action_host = base.get("JIESU_ACTION_HOST") or "127.0.0.1"
        if not is_loopback(action_host):
            log.warning(
                "JIESU_ACTION_HOST=%s: the action server (no authentication) is reachable "
                "from the network; firewall it to the Rasa servers",
                action_host,
            )
        token_q = "?" + urllib.parse.urlencode({"token": self.rasa_token})
        actions = self._proc(
            "actions",
            [py, "-m", "actions", "--actions", "actions", "--port", str(cfg.action_port)],
            {**env, "SANIC_HOST": action_host, "JIESU_ACTION_HOST": action_host},
            f"http://127.0.0.1:{cfg.action_port}/health",
        )
        servers = [self._rasa_proc(i, env, token_q) for i in range(max(1, self.rasa_workers))]
        t0 = time.monotonic()
        actions.start()
        for rasa in servers:
            rasa.start()
        try:
            wait_http(actions.ready_url or "", timeout_s, actions.proc)
            actions.mark_up()
            self.ready_after_s["actions"] = time.monotonic() - t0
            for rasa, base_url in zip(servers, self.rasa_urls, strict=True):
                wait_http(rasa.ready_url or "", timeout_s, rasa.proc)
                self.ready_after_s[rasa.name] = time.monotonic() - t0
                warm_up(base_url, self.rasa_token)
                rasa.mark_up()
                self.ready_after_s[f"{rasa.name}_warm"] = time.monotonic() - t0
            if self.with_gateway:
                self.start_gateway(timeout_s)
                self.ready_after_s["gateway"] = time.monotonic() - t0
        except BaseException:
            self.stop()
            raise
        self._write_status()
        if self.supervise:
            for rasa in servers:
                rasa.ensure_spare()
            self._halt.clear()
            self._watchdog = threading.Thread(target=self._watch, name="supervisor", daemon=True)
            self._watchdog.start()

    @property
    def rasa_urls(self) -> list[str]:
        """The Rasa servers this stack runs (``rasa_workers`` of them, consecutive ports)."""
        port = self.config.rasa_port
        return [f"http://127.0.0.1:{port + i}" for i in range(max(1, self.rasa_workers))]

    def _rasa_proc(self, i: int, env: dict[str, str], token_q: str) -> ManagedProcess:
        base_url = self.rasa_urls[i]
        rasa = self._proc(
            "rasa" if i == 0 else f"rasa{i + 1}",
            [
                sys.executable,
                "-m",
                "bot.rasa_runtime.server",
                "run",
                "--enable-api",
                "--auth-token",
                self.rasa_token,
                "--model",
                str(self.model),
                "--port",
                str(self.config.rasa_port + i),
                "--interface",
                "127.0.0.1",
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
            ],
            env,
            f"{base_url}/status{token_q}",
            lambda: warm_up(base_url, self.rasa_token),
        )
        if self.rasa_standby:
            rasa.standby_arg = STANDBY_FLAG
        return rasa

    def start_gateway(self, timeout_s: float = 60.0) -> ManagedProcess:
        """Start (or restart) the gateway child and wait until it is healthy."""
        with self._lock:
            self.processes = [p for p in self.processes if p.name != "gateway" or p.running]
        gw = self._proc(
            "gateway",
            [sys.executable, "-m", "bot.cli.main", "gateway"],
            self.child_env(),
            f"http://127.0.0.1:{self.config.port}/healthz",
        )
        gw.start()
        wait_http(gw.ready_url or "", timeout_s, gw.proc)
        gw.mark_up()
        self._write_status()
        return gw

    def stop_gateway(self) -> None:
        with self._lock:
            gateways = [p for p in self.processes if p.name == "gateway"]
            for p in gateways:
                p.state = ChildState.STOPPED
        for p in gateways:
            p.stop()
        self._write_status()

    def stop(self) -> None:
        self._halt.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join(timeout=5)
        self._watchdog = None
        with self._lock:
            procs = list(reversed(self.processes))
            for p in procs:
                p.state = ChildState.STOPPED
        for p in procs:
            p.stop()
        self._write_status()

    def child(self, name: str) -> ManagedProcess:
        """The current child called ``name`` (``rasa``, ``actions``, ``gateway``)."""
        with self._lock:
            for p in reversed(self.processes):
                if p.name == name:
                    return p
        raise KeyError(name)

    # -- watchdog ---------------------------------------------------------------

    def _note(self, line: str) -> None:
        log.warning("%s", line)
        path = self.config.data_dir / "logs" / "supervisor.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {line}\n")

    def _write_status(self, only_if_changed: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            children = {p.name: p.status(now) for p in self.processes}
        # The countdown changes every tick; the rest only on events.
        key = json.dumps(
            {n: {**c, "next_restart_in_s": None} for n, c in children.items()}, sort_keys=True
        )
        if only_if_changed and key == self._last_status:
            return
        self._last_status = key
        try:
            write_status(self.status_file, children)
        except OSError as exc:  # a full disk must not stop the watchdog
            log.error("cannot write %s: %s", self.status_file, exc)

    def _watch(self) -> None:
        while not self._halt.wait(WATCH_INTERVAL_S):
            try:
                self.tick()
                self._write_status(only_if_changed=True)
            except Exception:  # the watchdog must outlive any one bad tick
                log.exception("supervisor tick failed")

    def tick(self, now: float | None = None) -> bool:
        """One round of the watchdog; True when some child changed state."""
        changed = False
        with self._lock:
            procs = list(self.processes)
        for p in procs:
            now = time.monotonic() if now is None else now
            with self._lock:  # stop_gateway() marks a child STOPPED under the same lock
                if self._halt.is_set() or p.state is ChildState.STOPPED:
                    continue
                if p.state in (ChildState.UP, ChildState.STARTING) and not p.running:
                    changed = True
                    self._died(p, now)
                    continue
                if p.state is ChildState.DOWN and p.restart_at is not None and now >= p.restart_at:
                    changed = True
                    p.restarts += 1
                    self._note(f"{p.name}: restart #{p.restarts}")
                    p.start()
                    continue
            if p.state is ChildState.STARTING and p.probe():
                if p.warm is not None:
                    try:
                        p.warm()
                    except (urllib.error.URLError, OSError) as exc:
                        log.info("%s not warm yet: %s", p.name, exc)
                        continue
                changed = True
                p.mark_up()
                self._note(
                    f"{p.name}: up again after {time.monotonic() - p.started_at:.1f}s (pid {p.pid})"
                )
            if p.state is ChildState.UP and p.ensure_spare():
                self._note(f"{p.name}: warm spare started")
        return changed

    def _died(self, p: ManagedProcess, now: float) -> None:
        code = p.proc.returncode if p.proc is not None else 0
        uptime = now - p.started_at
        healthy_for = 0.0 if p.up_since is None else now - p.up_since
        p.failures = 1 if healthy_for >= self.stable_s else p.failures + 1
        delay = restart_delay(p.failures, self.restart_base_s, self.restart_max_s)
        p.last_exit = exit_reason(code if code is not None else 0)
        p.last_exit_at = utc_now_iso()
        p.state = ChildState.DOWN
        p.restart_at = now + delay
        self._note(
            f"{p.name}: {p.last_exit} after {uptime:.1f}s up; "
            f"restart in {delay:.1f}s (death {p.failures} in a row)"
        )

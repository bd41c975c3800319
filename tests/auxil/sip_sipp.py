"""Run SIPp scenarios from tests/phone against the bot on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SCENARIOS",
    "SippResult",
    "SippUas",
    "free_udp_port",
    "render_auth",
    "render_call",
    "run_sipp",
    "sip_messages",
    "sipp_available",
]

SCENARIOS = Path(__file__).resolve().parent / "sipp"


def sipp_available() -> bool:
    """True when the ``sipp`` binary (Debian package sip-tester) is installed."""
    return shutil.which("sipp") is not None


def free_udp_port() -> int:
    """An even UDP port that is free right now on 127.0.0.1 (ports +1..+3 too)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1]) & ~1
        if port + 3 > 65535:
            continue
        try:
            socks = []
            for p in range(port, port + 4):
                t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(t)
                t.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
        finally:
            for t in socks:
                t.close()
    raise RuntimeError("no free UDP port block")


def render_call(
    tmp: Path, pcap: Path, ending: str, rec_port: int, hold_ms: int = 0, timeout_ms: int = 60_000
) -> Path:
    """Fill tests/auxil/sipp/uac_call.xml: caller pcap, RTP port to record the bot on, ending."""
    body = (SCENARIOS / "uac_call.xml").read_text()
    end = (SCENARIOS / f"ending_{ending}.inc").read_text()
    out = body.replace("@ENDING@", end).replace("@PCAP@", str(pcap))
    out = (
        out.replace("@REC_PORT@", str(rec_port))
        .replace("@HOLD_MS@", str(hold_ms))
        .replace("@TIMEOUT_MS@", str(timeout_ms))
    )
    path = tmp / f"call_{ending}_{pcap.stem}.xml"
    path.write_text(out)
    return path


def _read_logs(*files: Path) -> str:
    return "".join(f.read_text(errors="replace") for f in files if f.exists())


@dataclass
class SippResult:
    """Exit status and logs of one SIPp run."""

    returncode: int
    output: str
    messages: str

    def explain(self) -> str:
        """Text for assertion messages."""
        return f"sipp exit {self.returncode}\n{self.output[-3000:]}\n{self.messages[-6000:]}"


async def run_sipp(
    scenario: Path,
    target: tuple[str, int],
    tmp: Path,
    calls: int = 1,
    variables: dict[str, str] | None = None,
    timeout_s: float = 90,
) -> SippResult:
    """Run ``sipp`` as a UAC against ``target`` and wait for it to finish."""
    msg_file = tmp / f"{scenario.stem}_messages.log"
    err_file = tmp / f"{scenario.stem}_errors.log"
    args = [
        "sipp", f"{target[0]}:{target[1]}", "-sf", str(scenario), "-s", "12345",
        "-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port()),
        "-m", str(calls), "-l", str(calls), "-r", "10",
        "-timeout", f"{int(timeout_s)}s", "-timeout_error", "-nostdin",
        "-trace_msg", "-message_file", str(msg_file), "-trace_err", "-error_file", str(err_file),
    ]  # fmt: skip
    for k, v in (variables or {}).items():
        args += ["-set", k, v]
    proc = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s + 15)
    except asyncio.TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    messages = await asyncio.to_thread(_read_logs, msg_file, err_file)
    return SippResult(proc.returncode or 0, out.decode(errors="replace"), messages)


def render_auth(tmp: Path, name: str, **values: str) -> Path:
    """Fill ``tests/phone/<name>.xml``: each ``@KEY@`` becomes ``values["key"]``."""
    text = (SCENARIOS / f"{name}.xml").read_text()
    for key, value in values.items():
        text = text.replace(f"@{key.upper()}@", value)
    left = re.search(r"@[A-Z0-9_]+@", text)
    assert left is None, f"unfilled placeholder {left.group(0) if left else ''} in {name}.xml"
    path = tmp / f"{name}.xml"
    path.write_text(text)
    return path


def sip_messages(log: str) -> list[tuple[str, str]]:
    """``(direction, message)`` pairs from a SIPp ``-trace_msg`` log; direction is
    ``sent`` or ``received`` from SIPp's point of view."""
    out: list[tuple[str, str]] = []
    for block in re.split(r"^-{10,}.*$", log, flags=re.M):
        head, _, rest = block.strip("\n").partition("\n")
        m = re.search(r"message (sent|received)", head)
        if m:
            out.append((m.group(1), rest.strip("\n").replace("\r\n", "\n")))
    return out


@dataclass
class SippUas:
    """SIPp as a callee (UAS) on 127.0.0.1, with its SIP messages logged for inspection."""

    proc: asyncio.subprocess.Process
    port: int
    msg_file: Path

    @classmethod
    async def start(cls, scenario: Path, tmp: Path) -> SippUas:
        """Run ``scenario`` for one call."""
        port = free_udp_port()
        msg_file = tmp / f"{scenario.stem}_uas_messages.log"
        proc = await asyncio.create_subprocess_exec(
            "sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port),
            "-mp", str(free_udp_port()), "-m", "1", "-timeout", "30s", "-timeout_error",
            "-nostdin", "-trace_msg", "-message_file", str(msg_file),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        return cls(proc, port, msg_file)

    @property
    def uri(self) -> str:
        """SIP URI that reaches this callee."""
        return f"sip:+8613800003333@127.0.0.1:{self.port}"

    async def wait(self, timeout_s: float = 40) -> SippResult:
        """Wait for SIPp to exit; return its status, output and message log."""
        try:
            out, _ = await asyncio.wait_for(self.proc.communicate(), timeout_s)
        except asyncio.TimeoutError:
            self.proc.kill()
            out, _ = await self.proc.communicate()
        messages = await asyncio.to_thread(_read_logs, self.msg_file)
        return SippResult(self.proc.returncode or 0, out.decode(errors="replace"), messages)

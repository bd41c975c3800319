"""Run SIPp as a callee (UAS) for outbound-call tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from tests.auxil.sip_sipp import free_udp_port

__all__ = ["SippCallee", "render_uas"]


def render_uas(template: Path, out_dir: Path, pcap: Path, timeout_ms: int = 60_000) -> Path:
    """Fill a UAS scenario's ``@PCAP@`` (what the callee sends) and ``@TIMEOUT_MS@``."""
    text = template.read_text().replace("@PCAP@", str(pcap))
    path = out_dir / f"{template.stem}_{pcap.stem}.xml"
    path.write_text(text.replace("@TIMEOUT_MS@", str(timeout_ms)))
    return path


@dataclass
class SippCallee:
    """A SIPp UAS process on 127.0.0.1 answering ``calls`` calls."""

    proc: asyncio.subprocess.Process
    port: int

    @classmethod
    async def start(
        cls, scenario: str, port: int | None = None, calls: int = 1, timeout_s: int = 30
    ) -> SippCallee:
        """Start SIPp with ``scenario`` (a file path, or ``uas`` for the built-in one).

        ``port`` fixes the SIP port (a survey gateway has one call URI for every
        callee); by default a free one is chosen.
        """
        port = port or free_udp_port()
        which = ["-sn", "uas"] if scenario == "uas" else ["-sf", scenario]
        proc = await asyncio.create_subprocess_exec(
            "sipp", *which, "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_udp_port()),
            "-m", str(calls), "-timeout", f"{timeout_s}s", "-timeout_error", "-nostdin",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        return cls(proc, port)

    @property
    def uri(self) -> str:
        """SIP URI that reaches this callee."""
        return f"sip:+8613800003333@127.0.0.1:{self.port}"

    async def wait(self, timeout_s: float = 40) -> tuple[int, str]:
        """Wait for SIPp to exit; return (exit code, output)."""
        out, _ = await asyncio.wait_for(self.proc.communicate(), timeout_s)
        return self.proc.returncode or 0, out.decode(errors="replace")

    async def stop(self) -> None:
        """Kill SIPp if it is still running (a failed test must not leave it behind)."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.communicate()

"""Run SIPp as a callee (UAS) for outbound-call tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tests.auxil.sip_sipp import free_udp_port

__all__ = ["SippCallee"]


@dataclass
class SippCallee:
    """A SIPp UAS process on 127.0.0.1 answering one call."""

    proc: asyncio.subprocess.Process
    port: int

    @classmethod
    async def start(cls, scenario: str) -> SippCallee:
        """Start SIPp with ``scenario`` (a file path, or ``uas`` for the built-in one)."""
        port = free_udp_port()
        which = ["-sn", "uas"] if scenario == "uas" else ["-sf", scenario]
        proc = await asyncio.create_subprocess_exec(
            "sipp", *which, "-i", "127.0.0.1", "-p", str(port), "-mp", str(free_udp_port()),
            "-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin",
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

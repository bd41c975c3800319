"""Client transactions over UDP (RFC 3261 §17.1): retransmission and matching."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from speech.sip.message import SipMessage

__all__ = ["ClientTransactions", "T1", "T2"]

T1 = 0.5
T2 = 4.0
Addr = tuple[str, int]


@dataclass
class _Pending:
    request: SipMessage
    dest: Addr
    final: asyncio.Future[SipMessage]
    provisional: asyncio.Event = field(default_factory=asyncio.Event)
    on_provisional: Callable[[SipMessage], None] | None = None


class ClientTransactions:
    """Sends requests, retransmits them until answered, and matches responses.

    Args:
        send: Writes one datagram.
        t1: RTT estimate (500 ms by default).
    """

    def __init__(self, send: Callable[[bytes, Addr], None], t1: float = T1) -> None:
        self._send = send
        self._t1 = t1
        self._pending: dict[tuple[str, str], _Pending] = {}

    async def request(
        self,
        msg: SipMessage,
        dest: Addr,
        timeout_s: float | None = None,
        on_provisional: Callable[[SipMessage], None] | None = None,
    ) -> SipMessage:
        """Send ``msg`` and return its final response.

        Raises:
            asyncio.TimeoutError: No final response in ``timeout_s`` (default 64*T1).
        """
        key = (msg.branch, msg.cseq[1])
        fut: asyncio.Future[SipMessage] = asyncio.get_running_loop().create_future()
        pending = _Pending(msg, dest, fut, on_provisional=on_provisional)
        self._pending[key] = pending
        data = msg.to_bytes()
        invite = msg.method == "INVITE"
        try:
            return await asyncio.wait_for(
                self._retransmit(pending, data, invite), timeout_s or 64 * self._t1
            )
        finally:
            self._pending.pop(key, None)

    async def _retransmit(self, p: _Pending, data: bytes, invite: bool) -> SipMessage:
        interval = self._t1
        self._send(data, p.dest)
        while True:
            done, _ = await asyncio.wait({p.final}, timeout=interval)
            if done:
                return p.final.result()
            if invite and p.provisional.is_set():
                return await p.final  # proceeding: the UAS answers when it answers
            if not invite and p.provisional.is_set():
                interval = T2
            else:
                interval = min(interval * 2, 1e9 if invite else T2)
            self._send(data, p.dest)

    def on_response(self, msg: SipMessage) -> bool:
        """Deliver a response; False when no transaction is waiting for it."""
        p = self._pending.get((msg.branch, msg.cseq[1]))
        if p is None:
            return False
        if msg.status < 200:
            p.provisional.set()
            if p.on_provisional is not None:
                p.on_provisional(msg)
        elif not p.final.done():
            p.final.set_result(msg)
        return True

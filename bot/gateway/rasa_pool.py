"""Several Rasa servers behind one gateway, each conversation pinned to one of them.

``JIESU_RASA_URL`` may list several servers, comma-separated (``jiesu up
--rasa-workers N`` starts them).  :class:`RasaPool` has the interface of
:class:`~bot.gateway.rasa_client.RasaClient`, so channels do not know whether one
server answers or five.

**Sticky by sender.**  A conversation goes to the server that ranks first for its
sender id by rendezvous (highest-random-weight) hashing: every gateway computes the
same choice from the same list with no shared state, so one conversation is never
processed by two servers at once (Rasa's lock store is per server, and the OSS
Redis lock store has a race, Rasa #9213), and when a server is taken out only its
own conversations move.  Trackers live in the shared SQL tracker store, so the next
server continues a moved conversation where it stood.

**Failover only when nothing was delivered.**  A server that refuses the
connection is marked down for ``retry_after_s`` and the turn goes to the next
server in the sender's ranking.  A timeout or an HTTP error is not retried
elsewhere: the first server may have processed the message, and a second server
would process it again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp

from bot.gateway.rasa_client import BotMessage, RasaClient, RasaUnavailable

__all__ = ["RasaPool", "rank_servers"]


def rank_servers(sender: str, servers: Sequence[str]) -> list[int]:
    """Indexes of ``servers`` in the order ``sender`` prefers them (rendezvous hashing)."""

    def weight(i: int) -> bytes:
        return hashlib.blake2b(f"{servers[i]}\n{sender}".encode(), digest_size=8).digest()

    return sorted(range(len(servers)), key=weight, reverse=True)


def _not_delivered(exc: RasaUnavailable) -> bool:
    """True when the request never reached the server (connection refused/reset on connect)."""
    return isinstance(exc.__cause__, aiohttp.ClientConnectorError)


class RasaPool(RasaClient):
    """A :class:`RasaClient` over several servers (see the module doc).

    A subclass so that every channel, typed against ``RasaClient``, takes it as is.
    """

    def __init__(
        self,
        clients: Sequence[RasaClient],
        retry_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not clients:
            raise ValueError("a Rasa pool needs at least one server")
        first = clients[0]
        super().__init__(
            first.base_url,
            first._session,
            first._timeout.total or 30.0,
            first.auth_params.get("token", ""),
        )
        self.clients = list(clients)
        self.urls = [c.base_url for c in self.clients]
        self._retry_after = retry_after_s
        self._clock = clock
        self._down_until: dict[int, float] = {}

    def _order(self, sender: str) -> list[int]:
        ranked = rank_servers(sender, self.urls)
        now = self._clock()
        up = [i for i in ranked if self._down_until.get(i, 0.0) <= now]
        return up + [i for i in ranked if i not in up]  # all down: still try, best first

    def server_for(self, sender: str) -> RasaClient:
        """The server this conversation goes to now."""
        return self.clients[self._order(sender)[0]]

    def base_url_for(self, sender: str) -> str:
        """The address of the server this conversation goes to now."""
        return self.server_for(sender).base_url

    async def _call(self, sender: str, call: Callable[[RasaClient], Any]) -> Any:
        last: RasaUnavailable | None = None
        for i in self._order(sender):
            try:
                result = await call(self.clients[i])
            except RasaUnavailable as exc:
                if not _not_delivered(exc):
                    raise
                self._down_until[i] = self._clock() + self._retry_after
                last = exc
                continue
            self._down_until.pop(i, None)
            return result
        assert last is not None
        raise last

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """:meth:`RasaClient.send` on the conversation's server."""
        result: list[BotMessage] = await self._call(
            sender, lambda c: c.send(sender, text, metadata)
        )
        return result

    async def trigger_intent(
        self, sender: str, intent: str, entities: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """:meth:`RasaClient.trigger_intent` on the conversation's server."""
        result: list[BotMessage] = await self._call(
            sender, lambda c: c.trigger_intent(sender, intent, entities)
        )
        return result

    async def ready(self) -> bool:
        """True when every server has a model loaded."""
        return all([await c.ready() for c in self.clients])

"""The gateway's one JSON error shape: ``{"error": {"code": …, "message": …}}``.

Every route of our own API (``/api/chat``, ``/api/ticket-events``, survey routes) answers a
bad request with it; the embedded desk keeps Open311's own error list format.
"""

from __future__ import annotations

from aiohttp import web

__all__ = ["json_error"]


def json_error(status: int, code: str, message: str) -> web.Response:
    """A ``status`` response whose body names the machine-readable ``code`` and says why."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)

"""The staff console on the real stack: a web conversation's transcript, resolve → callback."""

from __future__ import annotations

import html
import re

import aiohttp
import pytest

from tests.conftest import DESK_KEY, ChatSession, RunningStack
from tests.e2e.test_survey import COMPLAINT, file_complaint, job_status, pending_survey

pytestmark = pytest.mark.stack
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def test_console_shows_the_conversation_and_resolving_calls_back(
    chat: ChatSession, stack: RunningStack, http: aiohttp.ClientSession
) -> None:
    srid = await file_complaint(chat, stack)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as staff:
        base = f"{stack.gateway_url}/desk"
        async with staff.post(f"{base}/login", data={"api_key": DESK_KEY}) as r:
            assert r.status == 200 and r.url.path == "/desk/tickets"
        async with staff.get(f"{base}/tickets/{srid}") as r:
            page = html.unescape(await r.text())
        # Rasa's own tracker store, read by the gateway: the resident's words and the read-back.
        assert COMPLAINT in page
        assert "请核对" in page
        assert "13800138000" in page
        found = CSRF.search(page)
        assert found
        async with staff.post(
            f"{base}/tickets/{srid}/status",
            data={"status": "resolved", "note": "路灯已修好", "csrf": found.group(1)},
        ) as r:
            assert r.status == 200 and "done=status" in str(r.url)
    # The same callback as `jiesu desk resolve`: the survey reaches the web resident.
    survey = await pending_survey(http, stack, chat)
    assert any(m.get("buttons") for m in survey)
    assert job_status(stack, srid) in ("sent", "scheduled")

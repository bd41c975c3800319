"""Outbound calls (the later callback survey) against SIPp as the resident's phone."""

from __future__ import annotations

import pytest

from speech.errors import CallFailed
from tests.auxil.sip_sipp import SCENARIOS
from tests.auxil.sip_sipp_uas import SippCallee

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.usefixtures("need_sipp")]


async def test_place_call_answered_then_bye(make_phone) -> None:
    service, _ = await make_phone([])
    callee = await SippCallee.start("uas")
    call = await service.ua.place_call(callee.uri, timeout_s=10)
    assert call.direction == "out" and call.remote_user == "+8613800003333"
    assert call.media.remote is not None and call.media.codec.name == "PCMU"
    await call.hangup()
    code, out = await callee.wait()
    assert code == 0, out
    assert service.ua.calls == {}


async def test_place_call_busy_raises_call_failed(make_phone) -> None:
    service, _ = await make_phone([])
    callee = await SippCallee.start(str(SCENARIOS / "uas_busy.xml"))
    with pytest.raises(CallFailed) as info:
        await service.ua.place_call(callee.uri, timeout_s=10)
    assert info.value.status == 486
    code, out = await callee.wait()
    assert code == 0, out

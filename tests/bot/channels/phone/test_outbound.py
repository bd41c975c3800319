"""Outbound calls (the later callback survey) against SIPp as the resident's phone,
and through a trunk that demands digest authentication (SIPp as the challenging UAS)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from speech.errors import CallFailed, SipAuthError
from tests.auxil.sip_sipp import SCENARIOS, SippResult, SippUas, render_auth, sip_messages
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


# -- digest authentication against SIPp as a challenging trunk -------------------------

USER, PASSWORD = "jiesu-trunk", "s3cret pass"


def _hdr(msg: str, name: str) -> str:
    """First value of header ``name`` in a logged message ('' when absent)."""
    for line in msg.split("\n")[1:]:
        if not line.strip():
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""


def _params(value: str) -> dict[str, str]:
    """Digest parameters of an Authorization-style value (independent of speech.sip.auth)."""
    return {k.lower(): v for k, v in re.findall(r'(\w+)="?([^",]*)"?', value.partition(" ")[2])}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _branch(msg: str) -> str:
    return re.search(r"branch=([^;\s]+)", _hdr(msg, "Via")).group(1)  # type: ignore[union-attr]


def _tag(value: str) -> str:
    m = re.search(r"tag=([^;\s]+)", value)
    return m.group(1) if m else ""


def _exchange(result: SippResult) -> tuple[list[str], list[str], list[str]]:
    """INVITEs, ACKs that SIPp received, and the responses it sent, in order."""
    msgs = sip_messages(result.messages)
    got = [m for d, m in msgs if d == "received"]
    invites = [m for m in got if m.startswith("INVITE ")]
    acks = [m for m in got if m.startswith("ACK ")]
    sent = [m for d, m in msgs if d == "sent" and m.startswith("SIP/2.0 ")]
    return invites, acks, sent


async def test_407_then_401_are_answered_with_digest_credentials(
    make_phone, tmp_path: Path
) -> None:
    service, _ = await make_phone([], trunk_user=USER, trunk_password=PASSWORD)
    scenario = render_auth(tmp_path, "auth_uas_challenge", user=USER, password=PASSWORD,
                           nonce1="pr0xy-n0nce", nonce2="pbx-n0nce")  # fmt: skip
    uas = await SippUas.start(scenario, tmp_path)
    call = await service.ua.place_call(uas.uri, timeout_s=10)
    assert call.media.remote is not None
    await call.hangup()
    result = await uas.wait()
    assert result.returncode == 0, result.explain()
    invites, acks, sent = _exchange(result)
    assert [r.split()[1] for r in sent[:3]] == ["407", "401", "200"]
    assert len(invites) == 3 and len(acks) == 3, result.explain()
    first = invites[0]
    cseq0 = int(_hdr(first, "CSeq").split()[0])
    for i, inv in enumerate(invites):
        # Same request, same dialog identifiers, new transaction (RFC 3261 §22.3, §8.1.3.5).
        assert _hdr(inv, "CSeq") == f"{cseq0 + i} INVITE"
        assert inv.split("\n")[0] == first.split("\n")[0]
        assert _hdr(inv, "Call-ID") == _hdr(first, "Call-ID")
        assert _tag(_hdr(inv, "From")) == _tag(_hdr(first, "From"))
        assert _tag(_hdr(inv, "To")) == ""
        assert inv.partition("\n\n")[2] == first.partition("\n\n")[2]  # the same SDP offer
    assert len({_branch(inv) for inv in invites}) == 3
    for inv, ack, resp in zip(invites[:2], acks[:2], sent[:2], strict=True):
        # ACK of a non-2xx final belongs to the INVITE transaction (RFC 3261 §17.1.1.3).
        assert ack.split()[1] == inv.split()[1]
        assert _branch(ack) == _branch(inv)
        assert _hdr(ack, "CSeq") == f"{_hdr(inv, 'CSeq').split()[0]} ACK"
        assert _tag(_hdr(ack, "To")) == _tag(_hdr(resp, "To")) != ""
        assert _hdr(ack, "From") == _hdr(inv, "From")
    assert _hdr(first, "Proxy-Authorization") == "" and _hdr(first, "Authorization") == ""
    uri = first.split()[1]
    for inv, nc in ((invites[1], "00000001"), (invites[2], "00000002")):
        p = _params(_hdr(inv, "Proxy-Authorization"))
        assert (p["username"], p["realm"], p["nonce"], p["uri"]) == (
            USER, "proxy.jiesu.test", "pr0xy-n0nce", uri)  # fmt: skip
        assert (p["qop"], p["nc"], p["opaque"], p["algorithm"]) == ("auth", nc, "op4que", "MD5")
        ha1 = _md5(f"{USER}:proxy.jiesu.test:{PASSWORD}")
        ha2 = _md5(f"INVITE:{uri}")
        assert p["response"] == _md5(f"{ha1}:pr0xy-n0nce:{nc}:{p['cnonce']}:auth:{ha2}")
    assert _hdr(invites[1], "Authorization") == ""
    auth = _params(_hdr(invites[2], "Authorization"))  # verified by SIPp's verifyauth too
    assert auth["realm"] == "pbx.jiesu.test" and "qop" not in auth
    ha1 = _md5(f"{USER}:pbx.jiesu.test:{PASSWORD}")
    assert auth["response"] == _md5(f"{ha1}:pbx-n0nce:{_md5(f'INVITE:{uri}')}")


async def test_wrong_password_is_refused_by_sipp_verifyauth(make_phone, tmp_path: Path) -> None:
    service, _ = await make_phone([], trunk_user=USER, trunk_password="not-the-password")
    scenario = render_auth(tmp_path, "auth_uas_challenge", user=USER, password=PASSWORD,
                           nonce1="n-1", nonce2="n-2")  # fmt: skip
    uas = await SippUas.start(scenario, tmp_path)
    with pytest.raises(CallFailed) as info:
        await service.ua.place_call(uas.uri, timeout_s=10)
    assert info.value.status == 403
    result = await uas.wait()
    assert result.returncode == 0, result.explain()
    assert service.ua.calls == {}


async def test_rechallenge_after_credentials_fails_without_a_third_invite(
    make_phone, tmp_path: Path
) -> None:
    service, _ = await make_phone([], trunk_user=USER, trunk_password=PASSWORD)
    uas = await SippUas.start(SCENARIOS / "auth_uas_reject.xml", tmp_path)
    with pytest.raises(SipAuthError) as info:
        await service.ua.place_call(uas.uri, timeout_s=10)
    assert info.value.status == 407 and "rejected" in str(info.value)
    result = await uas.wait()
    assert result.returncode == 0, result.explain()
    invites, acks, _ = _exchange(result)
    assert (len(invites), len(acks)) == (2, 2), result.explain()

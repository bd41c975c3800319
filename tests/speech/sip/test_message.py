"""SIP parsing and building."""

from __future__ import annotations

import pytest

from speech.errors import SipParseError
from speech.sip.message import parse_message, parse_name_addr, parse_uri
from speech.sip.response import build_response, lenient_reply

INVITE = (
    "INVITE sip:12345@10.0.0.5:5080 SIP/2.0\r\n"
    "v: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKabc;rport\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxy, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKx\r\n"
    'f: "张三" <sip:+8613800001111@10.0.0.9>;tag=1928\r\n'
    "t: <sip:12345@10.0.0.5>\r\n"
    "i: call-1@10.0.0.9\r\n"
    "CSeq: 1 INVITE\r\n"
    "Subject: folded\r\n  continuation\r\n"
    "l: 4\r\n"
    "\r\n"
    "v=0\r\nextra"
)


def test_parse_compact_headers_folding_and_body() -> None:
    msg = parse_message(INVITE.encode())
    assert msg.method == "INVITE" and msg.call_id == "call-1@10.0.0.9"
    assert msg.cseq == (1, "INVITE") and msg.branch == "z9hG4bKabc"
    assert len(msg.get_all("Via")) == 3
    assert msg.get("subject") == "folded continuation"
    assert msg.body == b"v=0\r"  # Content-Length honoured
    frm = parse_name_addr(msg.get("From"))
    assert frm.display == "张三" and frm.tag == "1928"
    assert parse_uri(frm.uri).user == "+8613800001111"


def test_response_copies_dialog_headers_and_adds_to_tag() -> None:
    req = parse_message(INVITE.encode())
    resp = parse_message(build_response(req, 180, to_tag="xyz").to_bytes())
    assert resp.status == 180 and resp.get_all("Via") == req.get_all("Via")
    assert parse_name_addr(resp.get("To")).tag == "xyz" and resp.cseq == (1, "INVITE")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "empty"),
        (b"HELLO\r\n\r\n", "start line"),
        (INVITE.replace("i: call-1@10.0.0.9\r\n", "").encode(), "Call-ID"),
        (INVITE.replace("CSeq: 1 INVITE", "CSeq: one INVITE").encode(), "CSeq"),
        (INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 BYE").encode(), "does not match"),
        (INVITE.replace("l: 4", "l: 400").encode(), "shorter"),
        (INVITE.replace("Subject: folded", "Subject folded").encode(), "malformed header"),
        (b"SIP/2.0 999 Nope\r\n\r\n", "range"),
    ],
)
def test_malformed_messages(data: bytes, error: str) -> None:
    with pytest.raises(SipParseError, match=error) as info:
        parse_message(data)
    assert info.value.status == 400


def test_lenient_reply_answers_unparseable_requests_when_it_can() -> None:
    broken = INVITE.replace("l: 4", "l: 400").encode()
    reply = lenient_reply(broken, 400, "Bad Request (body shorter)")
    assert reply is not None
    msg = parse_message(reply)
    assert msg.status == 400 and msg.call_id == "call-1@10.0.0.9" and len(msg.get_all("Via")) == 3
    assert lenient_reply(b"garbage without headers", 400, "x") is None


def test_uri_forms() -> None:
    u = parse_uri("sip:queue@192.168.1.10:5062;transport=udp")
    assert (u.user, u.host, u.port, u.params) == ("queue", "192.168.1.10", 5062, "transport=udp")
    assert str(u) == "sip:queue@192.168.1.10:5062;transport=udp"
    assert parse_uri("tel:+8612345").user == "+8612345"
    with pytest.raises(SipParseError):
        parse_uri("http://example.com")

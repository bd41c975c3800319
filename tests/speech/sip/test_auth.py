"""Digest authentication: RFC test vectors, challenge parsing, and the UAC side on the wire."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from speech.errors import SipAuthError
from speech.settings import PhoneSettings, SettingsError, from_env
from speech.sip.auth import Challenge, Credentials, authorization, digest_response, parse_challenges
from speech.sip.message import SipMessage, parse_message
from speech.sip.ua import SipUA

MUFASA_2617 = Credentials("Mufasa", "Circle Of Life")
MUFASA_7616 = Credentials("Mufasa", "Circle of Life")


def test_rfc2617_section_3_5_vector() -> None:
    [ch] = parse_challenges("WWW-Authenticate", [
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    ])  # fmt: skip
    header = authorization(ch, MUFASA_2617, "GET", "/dir/index.html", cnonce="0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert "qop=auth," in header and "nc=00000001" in header  # unquoted, as the grammar says
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header


@pytest.mark.parametrize(
    "algorithm, expected",
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1_vectors(algorithm: str, expected: str) -> None:
    ch = Challenge(
        "WWW-Authenticate", "http-auth@example.org",
        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
        algorithm, ("auth", "auth-int"),
    )  # fmt: skip
    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    assert digest_response(ch, MUFASA_7616, "GET", "/dir/index.html", cnonce=cnonce) == (
        expected, "auth")  # fmt: skip


def test_without_qop_the_rfc2069_form_is_used() -> None:
    ch = Challenge("Proxy-Authenticate", "pbx", "abc")
    header = authorization(ch, Credentials("u", "p"), "INVITE", "sip:1@h")
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    expected = md5(f"{md5('u:pbx:p')}:abc:{md5('INVITE:sip:1@h')}")
    assert f'response="{expected}"' in header
    assert "cnonce" not in header and "qop" not in header and "nc=" not in header
    assert ch.answer_header == "Proxy-Authorization"


def test_auth_int_only_hashes_the_body() -> None:
    ch = Challenge("WWW-Authenticate", "r", "n", qop=("auth-int",))
    a = digest_response(ch, Credentials("u", "p"), "INVITE", "sip:x@h", b"v=0\r\n", "c")
    b = digest_response(ch, Credentials("u", "p"), "INVITE", "sip:x@h", b"v=1\r\n", "c")
    assert a[1] == "auth-int" and a[0] != b[0]


def test_parse_challenges_handles_quotes_escapes_and_other_schemes() -> None:
    chs = parse_challenges("Proxy-Authenticate", [
        'Basic realm="x"',
        'Digest realm="a, \\"quoted\\" realm", nonce="n,1", algorithm=SHA-256, stale=TRUE',
        'digest realm=r2,nonce=n2,qop="auth-int, auth",algorithm="MD5-sess"',
    ])  # fmt: skip
    assert [(c.realm, c.nonce, c.algorithm, c.stale) for c in chs] == [
        ('a, "quoted" realm', "n,1", "SHA-256", True), ("r2", "n2", "MD5-sess", False)]  # fmt: skip
    assert chs[1].qop == ("auth-int", "auth") and all(c.supported for c in chs)
    assert not Challenge("WWW-Authenticate", "r", "n", algorithm="AKAv1-MD5").supported


def test_challenge_without_nonce_is_an_error() -> None:
    with pytest.raises(SipAuthError):
        parse_challenges("WWW-Authenticate", ['Digest realm="r"'])


def test_unsupported_algorithm_is_an_error() -> None:
    with pytest.raises(SipAuthError):
        digest_response(Challenge("WWW-Authenticate", "r", "n", algorithm="SHA-512-256"),
                        Credentials("u", "p"), "INVITE", "sip:x@h")  # fmt: skip


def test_passwords_stay_out_of_reprs() -> None:
    s = from_env({"JIESU_SIP_TRUNK_USER": "trunk1", "JIESU_SIP_TRUNK_PASSWORD": "hunter2",
                  "JIESU_SIP_TRUNK_REALM": "pbx"})  # fmt: skip
    assert s.trunk_credentials == Credentials("trunk1", "hunter2") and s.trunk_realm == "pbx"
    assert "hunter2" not in repr(s) and "hunter2" not in repr(s.trunk_credentials)
    assert from_env({}).trunk_credentials is None


def test_trunk_user_without_password_is_rejected() -> None:
    with pytest.raises(SettingsError, match="JIESU_SIP_TRUNK_PASSWORD"):
        from_env({"JIESU_SIP_TRUNK_USER": "trunk1"})


# -- on the wire: a raw UDP peer playing a challenging trunk ----------------------------


class Trunk(asyncio.DatagramProtocol):
    """A UDP socket that queues what it receives and can answer."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[tuple[SipMessage, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:  # type: ignore[no-untyped-def]
        self.inbox.put_nowait((parse_message(data), addr))

    async def next(self, method: str) -> tuple[SipMessage, tuple[str, int]]:
        """The next request with ``method`` (retransmissions of others are skipped)."""
        while True:
            msg, addr = await asyncio.wait_for(self.inbox.get(), 3)
            if msg.method == method:
                return msg, addr

    def reply(self, req: SipMessage, addr: tuple[str, int], status: str, *extra: str) -> None:
        """Answer ``req`` with a final response and a To tag."""
        lines = [f"SIP/2.0 {status}", *(f"Via: {v}" for v in req.get_all("Via")),
                 f"From: {req.get('From')}", f"To: {req.get('To')};tag=trunk1",
                 f"Call-ID: {req.call_id}", f"CSeq: {req.get('CSeq')}", *extra,
                 "Content-Length: 0"]  # fmt: skip
        assert self.transport is not None
        self.transport.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), addr)


@pytest_asyncio.fixture(loop_scope="function")
async def trunk() -> AsyncIterator[tuple[Trunk, int]]:
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(Trunk, local_addr=("127.0.0.1", 0))
    yield peer, transport.get_extra_info("sockname")[1]
    transport.close()


SETTINGS = PhoneSettings(sip_host="127.0.0.1", sip_port=0)
CHALLENGE = 'Proxy-Authenticate: Digest realm="trunk", nonce="n1", qop="auth"'


async def _ua(settings: PhoneSettings) -> SipUA:
    ua = SipUA(settings)
    await ua.start()
    return ua


@pytest.mark.asyncio(loop_scope="function")
async def test_challenge_without_credentials_is_acked_and_names_the_settings(trunk) -> None:
    peer, port = trunk
    ua = await _ua(SETTINGS)
    try:
        call = asyncio.ensure_future(ua.place_call(f"sip:+8613800001111@127.0.0.1:{port}", 5))
        invite, addr = await peer.next("INVITE")
        peer.reply(invite, addr, "407 Proxy Authentication Required", CHALLENGE)
        ack, _ = await peer.next("ACK")
        assert ack.branch == invite.branch and ack.get("CSeq") == f"{invite.cseq[0]} ACK"
        peer.reply(invite, addr, "407 Proxy Authentication Required", CHALLENGE)  # retransmitted
        again, _ = await peer.next("ACK")  # re-ACKed from the UA's memory (timer D)
        assert again.branch == invite.branch
        with pytest.raises(SipAuthError, match="JIESU_SIP_TRUNK_USER") as info:
            await call
        assert info.value.status == 407
    finally:
        await ua.stop()


@pytest.mark.asyncio(loop_scope="function")
async def test_stale_nonce_is_retried_and_other_realms_are_not_answered(trunk) -> None:
    peer, port = trunk
    settings = dataclasses.replace(
        SETTINGS, trunk_user="u", trunk_password="p", trunk_realm="trunk"
    )
    ua = await _ua(settings)
    try:
        call = asyncio.ensure_future(ua.place_call(f"sip:100@127.0.0.1:{port}", 5))
        first, addr = await peer.next("INVITE")
        peer.reply(first, addr, "407 Proxy Authentication Required", CHALLENGE)
        second, _ = await peer.next("INVITE")
        assert 'nonce="n1"' in second.get("Proxy-Authorization")
        peer.reply(second, addr, "407 Proxy Authentication Required",
                   'Proxy-Authenticate: Digest realm="trunk", nonce="n2", stale=true')  # fmt: skip
        third, _ = await peer.next("INVITE")
        assert third.cseq[0] == first.cseq[0] + 2
        assert 'nonce="n2"' in third.get("Proxy-Authorization")
        peer.reply(third, addr, "401 Unauthorized",
                   'WWW-Authenticate: Digest realm="elsewhere", nonce="n3"')  # fmt: skip
        with pytest.raises(SipAuthError, match="elsewhere") as info:
            await call
        assert info.value.status == 401
    finally:
        await ua.stop()

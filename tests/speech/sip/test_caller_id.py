"""Caller identity: P-Asserted-Identity first, then From, normalised to ``+`` and digits."""

from __future__ import annotations

import pytest

from speech.sip.call import caller_number, normalise_number
from speech.sip.message import parse_message


def _invite(*headers: str) -> bytes:
    lines = [
        "INVITE sip:12345@10.0.0.5 SIP/2.0",
        "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKabc",
        "To: <sip:12345@10.0.0.5>",
        "Call-ID: cid-1",
        "CSeq: 1 INVITE",
        *headers,
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


FROM = 'From: "Resident" <sip:+8613800001111@10.0.0.9>;tag=1'


@pytest.mark.parametrize(
    ("headers", "want"),
    [
        ((FROM,), "+8613800001111"),
        ((FROM, "P-Asserted-Identity: <sip:+8613912345678@carrier.example;user=phone>"),
         "+8613912345678"),
        ((FROM, "P-Asserted-Identity: <tel:+86-139-1234-5678>"), "+8613912345678"),
        # sip and tel identities in one header (RFC 3325 §9.1): the first number wins
        ((FROM, 'P-Asserted-Identity: "A, B" <sip:ops@carrier.example>, <tel:+8613700007777>'),
         "+8613700007777"),
        # two header lines; the one without a number is skipped
        ((FROM, "P-Asserted-Identity: <sip:ops@carrier.example>",
          "P-Asserted-Identity: <tel:010-6512-3456>"), "01065123456"),
        # an identity without a number does not hide the one in From
        ((FROM, "P-Asserted-Identity: <sip:ops@carrier.example>"), "+8613800001111"),
        (("From: <sip:13800001111;phone-context=+86@gw.example>;tag=2",), "13800001111"),
        (('From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=3',), ""),
        (("From: <sip:10.0.0.9>;tag=4",), ""),
    ],
)  # fmt: skip
def test_caller_number(headers: tuple[str, ...], want: str) -> None:
    assert caller_number(parse_message(_invite(*headers))) == want


@pytest.mark.parametrize(
    ("user", "want"),
    [("+86 (138) 0000.1111", "+8613800001111"), ("%2B8613800001111", "+8613800001111"),
     ("caller", "caller"), ("ANONYMOUS", ""), ("12", "12")],
)  # fmt: skip
def test_normalise_number(user: str, want: str) -> None:
    assert normalise_number(user) == want

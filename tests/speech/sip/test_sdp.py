"""SDP offer/answer."""

from __future__ import annotations

import pytest

from speech.codec_g711 import CODECS, PCMA
from speech.errors import SdpError
from speech.sip.sdp import build_sdp, negotiate, parse_sdp

OFFER = """v=0
o=- 1 1 IN IP4 10.0.0.9
s=-
c=IN IP4 10.0.0.9
t=0 0
m=audio 40000 RTP/AVP 8 0 96
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-15
a=ptime:20
a=sendrecv
"""


def test_offer_order_and_dtmf_payload_type() -> None:
    neg = negotiate(parse_sdp(OFFER))
    assert neg.codec is PCMA and neg.dtmf_payload_type == 96
    assert (neg.remote_address, neg.remote_port) == ("10.0.0.9", 40000)


def test_answer_round_trip() -> None:
    answer = build_sdp("127.0.0.1", 30000, (PCMA,), 96)
    neg = negotiate(parse_sdp(answer))
    assert neg.codec.name == "PCMA" and neg.remote_port == 30000 and neg.dtmf_payload_type == 96
    offer = parse_sdp(build_sdp("127.0.0.1", 30002, CODECS))
    assert offer.formats == [0, 8, 101]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (OFFER.replace("RTP/AVP 8 0 96", "RTP/AVP 18"), "no common codec"),
        (OFFER.replace("RTP/AVP", "RTP/SAVP"), "transport"),
        (
            OFFER.replace("IN IP4 10.0.0.9\ns", "IN IP6 ::1\ns").replace(
                "c=IN IP4 10.0.0.9", "c=IN IP6 ::1"
            ),
            "IP4",
        ),
        ("hello", "v="),
        (OFFER.replace("m=audio", "m=video"), "no audio"),
        (OFFER.replace("m=audio 40000", "m=audio port"), "m= line"),
        (OFFER.replace("c=IN IP4 10.0.0.9\n", ""), "connection"),
    ],
)
def test_bad_offers(body: str, error: str) -> None:
    with pytest.raises(SdpError, match=error) as info:
        negotiate(parse_sdp(body))
    assert info.value.status == 488

"""SIP torture messages after RFC 4475, written for our UA (test data, not the RFC's bytes).

Each entry is named like the RFC 4475 test it follows (section 3.1.1 valid messages,
3.1.2 invalid messages, 3.2 transaction layer, 3.3 application layer) and exercises the
same trap: line folding, escapes, odd tokens, wrong lengths, duplicate or missing headers,
bad numbers, unknown schemes and extensions.  ``VALID`` ones must be accepted (any
non-5xx answer but the 501 RFC 3261 requires for an unknown method), ``INVALID`` ones
answered with a 4xx or ignored; none may crash the UA.
"""

from __future__ import annotations

__all__ = ["INVALID", "VALID"]

CRLF = "\r\n"
SDP = CRLF.join(
    ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
     "m=audio 49170 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
     ""]
)  # fmt: skip


def _msg(lines: list[str], body: str = "", length: int | None = None) -> bytes:
    """Join header lines with CRLF; Content-Length is added unless a line sets it."""
    head = list(lines)
    if not any(line.lower().startswith(("content-length", "l:")) for line in head):
        n = len(body.encode()) if length is None else length
        head.append(f"Content-Length: {n}")
    return (CRLF.join(head) + CRLF + CRLF + body).encode("utf-8", "surrogateescape")


def _common(cid: str, method: str = "OPTIONS", cseq: int = 1) -> list[str]:
    return [
        f"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-{cid}",
        "Max-Forwards: 70",
        "From: <sip:caller@127.0.0.1>;tag=t-" + cid,
        "To: <sip:12345@127.0.0.1>",
        f"Call-ID: torture-{cid}",
        f"CSeq: {cseq} {method}",
    ]


VALID: dict[str, bytes] = {
    # 3.1.1.1: folded header lines, compact forms, odd spacing and case, escaped URI.
    "wsinv": _msg(
        [
            "INVITE sip:vivekg@127.0.0.1;unknownparam SIP/2.0",
            "TO :",
            " sip:12345@127.0.0.1 ;   tag    = 1918181833n",
            'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@127.0.0.1>',
            "  ;",
            "  tag = 98asjd8",
            "MaX-fOrWaRdS: 0068",
            "Call-ID: wsinv.ndaksdj@192.0.2.1",
            "cseq: 0009",
            "  INVITE",
            "Via  : SIP  /   2.0",
            " /UDP",
            "    127.0.0.1:5999;branch=z9hG4bKkdjuw",
            "s :",
            "NewFangledHeader:   newfangled value",
            " continued newfangled value",
            "UnknownHeaderWithUnusualValue: ;;,,;;,;",
            "Content-Type: application/sdp",
            "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
            "  branch  =   z9hG4bK9ikj8  ,",
            " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
            " z9hG4bK30239",
            'm:"Quoted string \\"\\"" <sip:jdrosen@127.0.0.1> ; newparam =',
            "      newvalue ;",
            "  secondparam ; q = 0.33",
        ],
        SDP,
    ),
    # 3.1.1.2: every character a token may hold, in method-free places.
    "intmeth": _msg(
        [
            "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$"
            "/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@127.0.0.1 SIP/2.0",
            "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-.!%66*_+`'~",
            'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$'
            "/crazy?,/;;*@127.0.0.1>",
            "From: token1~` token2'+_ token3*%!.- <sip:mundane@127.0.0.1>;fromParam''~+*_!.-%="
            '"работающий";tag=_token~1\'+`*%!-.',
            "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
            "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~",
            "Max-Forwards: 255",
            "extensionHeader-!.%*+_`'~:\ufeff大停電",
        ]
    ),
    # 3.1.1.3: escaped characters in URIs; 3.1.1.4: %00 in a URI.
    "esc01": _msg(
        [
            "INVITE sip:sips%3Auser%40example.com@127.0.0.1 SIP/2.0",
            *_common("esc01", "INVITE")[:2],
            "To: sip:%75se%72@127.0.0.1",
            "From: <sip:I%20have%20spaces@127.0.0.1>;tag=938",
            "Call-ID: esc01.239409asdfakjkn23onasd0-3234",
            "CSeq: 234234 INVITE",
            "Contact: <sip:cal%6Cer@127.0.0.1:5999>",
            "Content-Type: application/sdp",
        ],
        SDP,
    ),  # fmt: skip
    "escnull": _msg(
        [
            "REGISTER sip:127.0.0.1 SIP/2.0",
            *_common("escnull", "REGISTER")[:2],
            "To: sip:null-%00-null@127.0.0.1",
            "From: sip:null-%00-null@127.0.0.1;tag=839923423",
            "Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
            "CSeq: 14398234 REGISTER",
            "Contact: <sip:%00@127.0.0.1:5999>",
            "Contact: <sip:%00%00@127.0.0.1:5999>",
            "Expires: 3600",
        ]
    ),  # fmt: skip
    # 3.1.1.6: a method that is not known, with a matching CSeq.
    "unknown_method": _msg(
        ["NEWMETHOD sip:12345@127.0.0.1 SIP/2.0", *_common("newm", "NEWMETHOD")]
    ),
    # 3.1.1.7: no LWS between the display name and "<".
    "lwsdisp": _msg(
        [
            "OPTIONS sip:12345@127.0.0.1 SIP/2.0",
            *_common("lwsdisp")[:2],
            "To: sip:12345@127.0.0.1",
            "From: caller<sip:caller@127.0.0.1>;tag=323",
            "Call-ID: lwsdisp.1234abcd@funky.example.com",
            "CSeq: 60 OPTIONS",
        ]
    ),  # fmt: skip
    # 3.1.1.8: long values everywhere (a 3 KB header, a long Call-ID, many Vias).
    "longreq": _msg(
        [
            "INVITE sip:12345@127.0.0.1 SIP/2.0",
            *_common("longreq", "INVITE")[:2],
            *[f"Via: SIP/2.0/UDP host{i}.example.com;branch=z9hG4bK{i:04d}" for i in range(30)],
            'To: "I have a user name of ' + "extreme" * 30 + ' proportion" <sip:12345@127.0.0.1>',
            "From: sip:" + "amazinglylongcallername" * 10 + "@127.0.0.1;tag=12982982",
            "Call-ID: longreq." + "onereallyreallyreallyreallylongcallid" * 8,
            "CSeq: 3882340 INVITE",
            "X-Long: " + "x" * 3000,
            "Content-Type: application/sdp",
        ],
        SDP,
    ),  # fmt: skip
    # 3.1.1.10: a semicolon-separated parameter in the user part; 3.1.1.11: multipart body.
    "semiuri": _msg(
        ["OPTIONS sip:user;par=u%40example.net@127.0.0.1 SIP/2.0", *_common("semiuri")]
    ),
    "mpart01": _msg(
        [
            "MESSAGE sip:12345@127.0.0.1 SIP/2.0",
            *_common("mpart01", "MESSAGE"),
            'Content-Type: multipart/signed;protocol="application/pkcs7-signature";micalg=sha1;'
            'boundary="----=_NextPart"',
        ],
        "------=_NextPart\r\nContent-Type: text/plain\r\n\r\nhello\r\n------=_NextPart--\r\n",
    ),  # fmt: skip
    # 3.1.1.9: two Vias with unknown transports; 3.1.1.12/13: responses with odd reasons.
    "transports": _msg(
        [
            "OPTIONS sip:12345@127.0.0.1 SIP/2.0",
            "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKtransports",
            "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf",
            "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj",
            "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
            *_common("transports")[1:],
        ]
    ),  # fmt: skip
    "unreason": _msg(
        ["SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое", *_common("unreason")]
    ),
    "noreason": _msg(["SIP/2.0 100 ", *_common("noreason")]),
    # Invalid by the letter of RFC 4475 but to be accepted by a lenient element (its text
    # allows it): a bare magic-cookie branch, an RFC 2543 INVITE without one, a non-GMT
    # Date, escaped headers in the Request-URI, Max-Forwards 0 at a UAS, a 60 KB header.
    "badbranch": _msg(
        [
            "OPTIONS sip:12345@127.0.0.1 SIP/2.0",
            "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK",
            *_common("badbranch")[1:],
        ]
    ),
    "nobranch": _msg(
        [
            "INVITE sip:12345@127.0.0.1 SIP/2.0",
            "Via: SIP/2.0/UDP 127.0.0.1:5999",
            *_common("nobranch", "INVITE")[1:],
            "Content-Type: application/sdp",
        ],
        SDP,
    ),
    "baddate": _msg(
        [
            "INVITE sip:12345@127.0.0.1 SIP/2.0",
            *_common("baddate", "INVITE"),
            "Date: Fri, 01 Jan 2010 16:00:00 EST",
            "Content-Type: application/sdp",
        ],
        SDP,
    ),
    "escruri": _msg(
        [
            "INVITE sip:user@127.0.0.1?Route=%3Csip:example.com%3E SIP/2.0",
            *_common("escruri", "INVITE"),
            "Content-Type: application/sdp",
        ],
        SDP,
    ),
    "zeromf": _msg(
        [
            "OPTIONS sip:12345@127.0.0.1 SIP/2.0",
            *[line.replace("70", "0") for line in _common("zeromf")],
        ]
    ),
    "huge_header": _msg(
        ["OPTIONS sip:12345@127.0.0.1 SIP/2.0", *_common("huge"), "X-Big: " + "y" * 60000]
    ),
}

INVALID: dict[str, bytes] = {
    # 3.1.2.2: Content-Length beyond the body.
    "clerr": _msg(["INVITE sip:12345@127.0.0.1 SIP/2.0", *_common("clerr", "INVITE"),
                   "Content-Type: application/sdp"], SDP, length=9999),
    # 3.1.2.3: negative Content-Length; 3.1.2.4: huge numbers (CSeq, Max-Forwards, Expires).
    "ncl": _msg(["INVITE sip:12345@127.0.0.1 SIP/2.0", *_common("ncl", "INVITE"),
                 "Content-Length: -999", "Content-Type: application/sdp"], SDP),
    "scalar02": _msg(["REGISTER sip:127.0.0.1 SIP/2.0", *_common("scalar02", "REGISTER")[:5],
                      "CSeq: 36893488147419103232 REGISTER", "Max-Forwards: 300",
                      "Expires: 1" + "0" * 30, "Contact: <sip:caller@127.0.0.1>;expires=280297596632815"]),
    "scalarlg": _msg(["SIP/2.0 503 Service Unavailable", *_common("scalarlg")[:5],
                      "CSeq: 1 OPTIONS", "Retry-After: 18446744073709551616"]),
    # 3.1.2.5: unterminated quoted string; 3.1.2.6: "<>" around the Request-URI.
    "quotbal": _msg(["INVITE sip:12345@127.0.0.1 SIP/2.0", *_common("quotbal", "INVITE")[:2],
                     "To: \"Mr. J. User <sip:j.user@127.0.0.1>", *_common("quotbal", "INVITE")[2:3],
                     *_common("quotbal", "INVITE")[4:], "Content-Type: application/sdp"], SDP),
    "ltgtruri": _msg(["INVITE <sip:12345@127.0.0.1> SIP/2.0", *_common("ltgtruri", "INVITE"),
                      "Content-Type: application/sdp"], SDP),
    # 3.1.2.7: LWS inside the Request-URI; 3.1.2.8: many SPs in the request line.
    "lwsruri": _msg(["INVITE sip:user@127.0.0.1; lr SIP/2.0", *_common("lwsruri", "INVITE")]),
    "lwsstart": _msg(["INVITE  sip:12345@127.0.0.1  SIP/2.0", *_common("lwsstart", "INVITE")]),
    # 3.1.2.9: SP after the version; 3.1.2.10: escaped headers in the Request-URI.
    "trws": _msg(["OPTIONS sip:12345@127.0.0.1 SIP/2.0 ", *_common("trws")]),
    # 3.1.2.11: a bad Date; 3.1.2.12: a bad Contact; 3.1.2.13: spaces in an addr-spec.
    "regbadct": _msg(["REGISTER sip:127.0.0.1 SIP/2.0", *_common("regbadct", "REGISTER"),
                      "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E"]),
    "badaspec": _msg(["OPTIONS sip:12345@127.0.0.1 SIP/2.0", *_common("badaspec")[:2],
                      "To: sip:user@example.com", "From: \"Bell, Alexander\" <sip:a.g.bell@ example.com>;tag=43",
                      *_common("badaspec")[4:]]),
    # 3.1.2.14: a non-token display name unquoted; 3.1.2.15: SIP/7.0.
    "baddn": _msg(["OPTIONS sip:12345@127.0.0.1 SIP/2.0", *_common("baddn")[:3],
                   "To: Bell, Alexander <sip:a.g.bell@127.0.0.1>", *_common("baddn")[4:]]),
    "badvers": _msg(["OPTIONS sip:12345@127.0.0.1 SIP/7.0", *_common("badvers")]),
    # 3.1.2.16/17: CSeq method not the request's; 3.1.2.18: a status code over 699.
    "mismatch01": _msg(["OPTIONS sip:12345@127.0.0.1 SIP/2.0", *_common("mismatch01")[:5], "CSeq: 8 INVITE"]),
    "mismatch02": _msg(["NEWMETHOD sip:12345@127.0.0.1 SIP/2.0", *_common("mismatch02")[:5], "CSeq: 8 INVITE"]),
    "bigcode": _msg(["SIP/2.0 4294967301 better not break the receiver", *_common("bigcode")]),
    # 3.2.1: a branch without the magic cookie (RFC 2543 style) and no branch at all.
    # 3.3.1: missing required headers; 3.3.2: an unknown scheme; 3.3.4: unknown Require.
    "insuf": _msg(["INVITE sip:12345@127.0.0.1 SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKinsuf",
                   "Content-Type: application/sdp"], SDP),
    "unksm": _msg(["OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0", *_common("unksm")]),
    "unksm2": _msg(["REGISTER sip:127.0.0.1 SIP/2.0", *_common("unksm2", "REGISTER")[:2],
                    "To: isbn:2983792873", "From: <http://www.example.com>;tag=3234233",
                    *_common("unksm2", "REGISTER")[4:]]),
    "bext01": _msg(["OPTIONS sip:12345@127.0.0.1 SIP/2.0", *_common("bext01"),
                    "Require: nothingSupportsThis, nothingSupportsThisEither", "Proxy-Require: noProxiesSupportThis"]),
    # 3.3.5: a body of an unknown type; 3.3.7/8: headers that must be single, twice.
    "invut": _msg(["INVITE sip:12345@127.0.0.1 SIP/2.0", *_common("invut", "INVITE"),
                   "Content-Type: application/unknownformat"], "<audio> <pcmu port=\"443\"/> </audio>"),
    "multi01": _msg(["INVITE sip:12345@127.0.0.1 SIP/2.0", *_common("multi01", "INVITE"),
                     "To: sip:other@127.0.0.1", "Call-ID: other-call-id", "CSeq: 9 INVITE",
                     "Content-Type: application/sdp"], SDP),
    "mcl01": _msg(["OPTIONS sip:12345@127.0.0.1 SIP/2.0", *_common("mcl01"), "Content-Length: 0",
                   "Content-Length: 2", "Content-Length: 4"], "1234"),
    # 3.3.12: Max-Forwards 0 (not for us to forward: still answered); 3.3.13: bad SDP.
    "badsdp": _msg(["INVITE sip:12345@127.0.0.1 SIP/2.0", *_common("badsdp", "INVITE"),
                    "Content-Type: application/sdp"], "v=0\r\nm=audio notaport RTP/AVP 97\r\nc=IN IP9 ???\r\n"),
    "nocodec": _msg(["INVITE sip:12345@127.0.0.1 SIP/2.0", *_common("nocodec", "INVITE"),
                     "Content-Type: application/sdp"], SDP.replace("RTP/AVP 0 101", "RTP/AVP 98")
                    .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:98 AMR/8000")),
    # Not in the RFC: what a datagram can also be.
    "binary": b"\x00\x01\x02\xff" * 64 + b"\r\n\r\n",
    "headers_only": b"INVITE sip:12345@127.0.0.1 SIP/2.0\r\n",
    "utf8_garbage": "请求 sip:你好@127.0.0.1 SIP/2.0\r\n\r\n".encode(),
}  # fmt: skip

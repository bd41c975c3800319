"""Phone settings from the environment."""

from __future__ import annotations

import pytest

from speech.settings import PhoneSettings, SettingsError, from_env


def test_defaults() -> None:
    s = from_env({})
    assert s == PhoneSettings()
    assert s.enabled and s.sip_port == 5080 and s.tts_voice == "cmn-latn-pinyin"
    assert s.vosk_model.endswith("models/vosk/vosk-model-small-cn-0.22")


def test_values_are_read() -> None:
    s = from_env({
        "JIESU_SIP_PORT": "0", "JIESU_SIP_HOST": "0.0.0.0", "JIESU_SIP_PUBLIC_ADDR": "10.1.2.3",
        "JIESU_SIP_RTP_PORTS": "20000-20100", "JIESU_SIP_TRANSFER_URI": "sip:q@pbx",
        "JIESU_SIP_NO_INPUT_S": "5.5", "JIESU_VOSK_MODEL": "/m", "JIESU_TTS_CACHE_DIR": "",
    })  # fmt: skip
    assert not s.enabled and s.advertised_addr == "10.1.2.3"
    assert (s.rtp_port_min, s.rtp_port_max) == (20000, 20100)
    assert s.transfer_uri == "sip:q@pbx" and s.no_input_s == 5.5 and s.vosk_model == "/m"
    assert s.tts_cache_dir == ""


@pytest.mark.parametrize(
    "env",
    [
        {"JIESU_SIP_PORT": "x"},
        {"JIESU_SIP_PORT": "70000"},
        {"JIESU_SIP_RTP_PORTS": "abc"},
        {"JIESU_SIP_RTP_PORTS": "30000-20000"},
        {"JIESU_SIP_NO_INPUT_S": "-1"},
        {"JIESU_SIP_VAD_MODE": "4"},
    ],
)
def test_bad_values(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        from_env(env)

"""Phone-channel settings, read once from ``JIESU_SIP_*``, ``JIESU_ASR_ENGINE``,
``JIESU_VOSK_MODEL``, ``JIESU_WHISPER_*``, ``JIESU_TTS_*``.

Every field has a default so the gateway starts with no environment at all.
Field comments double as the README table (see ``docs/voice.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from speech.errors import SpeechError
from speech.sip.auth import Credentials

__all__ = ["AsrEngine", "PhoneSettings", "SettingsError", "from_env"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(SpeechError, ValueError):
    """An environment variable has an unusable value."""


class AsrEngine(str, Enum):
    """Which speech recogniser the phone channel uses (``JIESU_ASR_ENGINE``)."""

    AUTO = "auto"  # Vosk when its model directory exists, else Whisper
    VOSK = "vosk"
    WHISPER = "whisper"


@dataclass(frozen=True)
class PhoneSettings:
    """Typed phone-channel configuration."""

    # JIESU_SIP_HOST: address the SIP UA and RTP sockets bind to.
    sip_host: str = "127.0.0.1"
    # JIESU_SIP_PORT: UDP port for SIP; 0 disables the phone channel.
    sip_port: int = 5080
    # JIESU_SIP_PUBLIC_ADDR: address put in Contact/SDP (default: sip_host).
    public_addr: str = ""
    # JIESU_SIP_RTP_PORTS: "min-max" RTP port range; empty = any free port.
    rtp_port_min: int = 0
    rtp_port_max: int = 0
    # JIESU_SIP_USER: user part of our SIP URI (From of outbound calls).
    sip_user: str = "12345"
    # JIESU_SIP_TRANSFER_URI: queue for 转人工 (REFER target); empty = no transfer.
    transfer_uri: str = ""
    # JIESU_SIP_OUTBOUND_PROXY: "host:port" for outbound INVITEs; empty = URI host.
    outbound_proxy: str = ""
    # JIESU_SIP_TRUNK_USER: digest username for a trunk that challenges outbound INVITEs.
    trunk_user: str = ""
    # JIESU_SIP_TRUNK_PASSWORD: its password (kept out of repr, so out of logs).
    trunk_password: str = field(default="", repr=False)
    # JIESU_SIP_TRUNK_REALM: answer challenges only from this realm; empty = any realm.
    trunk_realm: str = ""
    # JIESU_SIP_MAX_CALLS: concurrent calls; more are answered 486 Busy Here.
    max_calls: int = 20
    # JIESU_SIP_MAX_CONVERSATIONS: calls that get the full dialogue; the calls beyond it (up to
    # max_calls) hear a short busy message and are hung up.  0 = by the recogniser's cost:
    # Whisper 2 per core, a streaming engine max_calls.
    max_conversations: int = 0
    # JIESU_SIP_ANSWER_DELAY_S: ring time before answering.
    answer_delay_s: float = 0.0
    # JIESU_SIP_NO_INPUT_S: silence before a reprompt.
    # JIESU_SIP_INVITE_BURST / JIESU_SIP_INVITE_RATE_PER_MIN: new INVITEs one source
    # address may send (a burst, then per minute); more are answered 503 + Retry-After.
    invite_burst: int = 10
    invite_rate_per_min: int = 30
    # JIESU_SIP_RASA_RETRY_S: how long a call keeps retrying a turn while Rasa is down
    # (the caller hears SYSTEM_HOLD once); after it, SYSTEM_BUSY and the call ends.
    rasa_retry_s: float = 10.0
    no_input_s: float = 7.0
    # JIESU_SIP_REPROMPTS: reprompts after no input before a polite close.
    max_reprompts: int = 2
    # JIESU_SIP_END_SILENCE_MS: trailing silence that ends an utterance.
    end_silence_ms: int = 500
    # JIESU_SIP_VAD_MODE: webrtcvad aggressiveness 0..3.
    vad_mode: int = 3
    # JIESU_SIP_MAX_UTTERANCE_S: an utterance is cut after this long.
    max_utterance_s: float = 30.0
    # JIESU_ASR_ENGINE: auto | vosk | whisper (auto = vosk if its model dir exists, else whisper).
    asr_engine: AsrEngine = AsrEngine.AUTO
    # JIESU_VOSK_MODEL: Vosk model directory (see `jiesu speech fetch-model`).
    vosk_model: str = str(PROJECT_ROOT / "models" / "vosk" / "vosk-model-small-cn-0.22")
    # JIESU_WHISPER_MODEL: base | small | a CTranslate2 Whisper model directory.
    whisper_model: str = "base"
    # JIESU_WHISPER_BEAM: beam width (1 = greedy, faster; 5 = more accurate).
    whisper_beam_size: int = 5
    # JIESU_WHISPER_THREADS: CTranslate2 threads per decode; 0 = every core.
    whisper_cpu_threads: int = 0
    # JIESU_WHISPER_PROMPT: decoder prompt text; "hotline" = the built-in word list; empty = none.
    whisper_prompt: str = ""
    # JIESU_WHISPER_WINDOW_PAD_S: padding kept after the speech in the encoder's window;
    # 0 = Whisper's full 30 s window (2-3x slower, same CER on the real clips).
    whisper_window_pad_s: float = 1.5
    # JIESU_TTS_ENGINE: TTS engine; only "espeak-ng" is built in.
    tts_engine: str = "espeak-ng"
    # JIESU_TTS_VOICE: espeak-ng voice (cmn-latn-pinyin reads Mandarin; see docs/voice.md).
    tts_voice: str = "cmn-latn-pinyin"
    # JIESU_TTS_SPEED: words per minute.
    tts_speed: int = 165
    # JIESU_TTS_CACHE_DIR: on-disk prompt cache; empty = memory only.
    tts_cache_dir: str = str(PROJECT_ROOT / "var" / "tts-cache")

    @property
    def enabled(self) -> bool:
        """False when JIESU_SIP_PORT is 0."""
        return self.sip_port != 0

    @property
    def trunk_credentials(self) -> Credentials | None:
        """Digest credentials for outbound calls, or None when no trunk user is set."""
        if not self.trunk_user:
            return None
        return Credentials(self.trunk_user, self.trunk_password)

    @property
    def advertised_addr(self) -> str:
        """Address for Contact and SDP."""
        return self.public_addr or self.sip_host


def _get(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name)
    return None if raw is None or raw.strip() == "" else raw.strip()


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be in {lo}..{hi}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {value}")
    return value


def _ports(env: Mapping[str, str]) -> tuple[int, int]:
    raw = _get(env, "JIESU_SIP_RTP_PORTS")
    if raw is None:
        return 0, 0
    lo_s, _, hi_s = raw.partition("-")
    try:
        lo, hi = int(lo_s), int(hi_s or lo_s)
    except ValueError as exc:
        raise SettingsError(f"JIESU_SIP_RTP_PORTS must be 'min-max', got {raw!r}") from exc
    if not 1024 <= lo <= hi <= 65535:
        raise SettingsError(f"JIESU_SIP_RTP_PORTS out of range: {raw!r}")
    return lo, hi


def _engine(env: Mapping[str, str]) -> AsrEngine:
    raw = (_get(env, "JIESU_ASR_ENGINE") or AsrEngine.AUTO.value).lower()
    try:
        return AsrEngine(raw)
    except ValueError as exc:
        names = " | ".join(e.value for e in AsrEngine)
        raise SettingsError(f"JIESU_ASR_ENGINE must be {names}, got {raw!r}") from exc


def from_env(env: Mapping[str, str]) -> PhoneSettings:
    """Build settings from an environment mapping (normally ``os.environ``).

    Raises:
        SettingsError: A variable has a malformed or out-of-range value.
    """
    d = PhoneSettings()
    lo, hi = _ports(env)
    if _get(env, "JIESU_SIP_TRUNK_USER") and not env.get("JIESU_SIP_TRUNK_PASSWORD"):
        raise SettingsError("JIESU_SIP_TRUNK_USER is set but JIESU_SIP_TRUNK_PASSWORD is empty")
    return PhoneSettings(
        sip_host=_get(env, "JIESU_SIP_HOST") or d.sip_host,
        sip_port=_int(env, "JIESU_SIP_PORT", d.sip_port, 0, 65535),
        public_addr=_get(env, "JIESU_SIP_PUBLIC_ADDR") or d.public_addr,
        rtp_port_min=lo,
        rtp_port_max=hi,
        sip_user=_get(env, "JIESU_SIP_USER") or d.sip_user,
        transfer_uri=_get(env, "JIESU_SIP_TRANSFER_URI") or d.transfer_uri,
        outbound_proxy=_get(env, "JIESU_SIP_OUTBOUND_PROXY") or d.outbound_proxy,
        trunk_user=_get(env, "JIESU_SIP_TRUNK_USER") or d.trunk_user,
        trunk_password=env.get("JIESU_SIP_TRUNK_PASSWORD", d.trunk_password),
        trunk_realm=_get(env, "JIESU_SIP_TRUNK_REALM") or d.trunk_realm,
        max_calls=_int(env, "JIESU_SIP_MAX_CALLS", d.max_calls, 1, 10_000),
        max_conversations=_int(env, "JIESU_SIP_MAX_CONVERSATIONS", d.max_conversations, 0, 10_000),
        answer_delay_s=_float(env, "JIESU_SIP_ANSWER_DELAY_S", d.answer_delay_s),
        no_input_s=_float(env, "JIESU_SIP_NO_INPUT_S", d.no_input_s),
        rasa_retry_s=_float(env, "JIESU_SIP_RASA_RETRY_S", d.rasa_retry_s),
        invite_burst=_int(env, "JIESU_SIP_INVITE_BURST", d.invite_burst, 1, 1_000_000),
        invite_rate_per_min=_int(
            env, "JIESU_SIP_INVITE_RATE_PER_MIN", d.invite_rate_per_min, 1, 1_000_000
        ),
        max_reprompts=_int(env, "JIESU_SIP_REPROMPTS", d.max_reprompts, 0, 10),
        end_silence_ms=_int(env, "JIESU_SIP_END_SILENCE_MS", d.end_silence_ms, 100, 5000),
        vad_mode=_int(env, "JIESU_SIP_VAD_MODE", d.vad_mode, 0, 3),
        max_utterance_s=_float(env, "JIESU_SIP_MAX_UTTERANCE_S", d.max_utterance_s),
        asr_engine=_engine(env),
        vosk_model=_get(env, "JIESU_VOSK_MODEL") or d.vosk_model,
        whisper_model=_get(env, "JIESU_WHISPER_MODEL") or d.whisper_model,
        whisper_beam_size=_int(env, "JIESU_WHISPER_BEAM", d.whisper_beam_size, 1, 10),
        whisper_cpu_threads=_int(env, "JIESU_WHISPER_THREADS", d.whisper_cpu_threads, 0, 64),
        whisper_prompt=_get(env, "JIESU_WHISPER_PROMPT") or d.whisper_prompt,
        whisper_window_pad_s=_float(env, "JIESU_WHISPER_WINDOW_PAD_S", d.whisper_window_pad_s),
        tts_engine=_get(env, "JIESU_TTS_ENGINE") or d.tts_engine,
        tts_voice=_get(env, "JIESU_TTS_VOICE") or d.tts_voice,
        tts_speed=_int(env, "JIESU_TTS_SPEED", d.tts_speed, 80, 450),
        tts_cache_dir=env.get("JIESU_TTS_CACHE_DIR", d.tts_cache_dir).strip(),
    )

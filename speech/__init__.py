"""Audio for the phone channel: codecs, VAD, ASR (Vosk), TTS (espeak-ng), SIP/RTP.

Nothing here knows about Rasa or the gateway; ``bot/channels/phone/channel.py`` wires
it in.  Importing this package does no heavy work (the Vosk library is
loaded on first model load).
"""

from speech.asr import AsrResult, Recognizer, RecognizerFactory, Word, short_answer_grammar
from speech.asr_vosk import VoskRecognizerFactory, check_model_dir, load_vosk_model
from speech.clock import Clock, ManualClock, MonotonicClock
from speech.codec_g711 import PCMA, PCMU, Codec
from speech.errors import (
    CallFailed,
    CodecError,
    ModelBroken,
    ModelError,
    ModelFetchError,
    ModelNotFound,
    RecognizerError,
    SdpError,
    SipError,
    SipParseError,
    SpeechError,
    TransferFailed,
    TtsError,
)
from speech.resample import Resampler, resample
from speech.settings import PhoneSettings, SettingsError, from_env
from speech.sip.call import Call
from speech.sip.rtp_session import AudioIn, DtmfIn, MediaSession, Pacer, Playback
from speech.sip.ua import SipUA
from speech.tts import EspeakEngine, PromptCache, Tts, TtsEngine
from speech.vad import EndpointConfig, Endpointer, NoInput, SpeechStarted, Utterance

__all__ = [
    "PCMA",
    "PCMU",
    "AsrResult",
    "AudioIn",
    "Call",
    "CallFailed",
    "Clock",
    "Codec",
    "CodecError",
    "DtmfIn",
    "EndpointConfig",
    "Endpointer",
    "EspeakEngine",
    "ManualClock",
    "MediaSession",
    "ModelBroken",
    "ModelError",
    "ModelFetchError",
    "ModelNotFound",
    "MonotonicClock",
    "NoInput",
    "Pacer",
    "PhoneSettings",
    "Playback",
    "PromptCache",
    "RecognizerError",
    "Recognizer",
    "RecognizerFactory",
    "Resampler",
    "SdpError",
    "SettingsError",
    "SipError",
    "SipParseError",
    "SipUA",
    "SpeechError",
    "SpeechStarted",
    "TransferFailed",
    "Tts",
    "TtsEngine",
    "TtsError",
    "Utterance",
    "VoskRecognizerFactory",
    "Word",
    "check_model_dir",
    "from_env",
    "load_vosk_model",
    "resample",
    "short_answer_grammar",
]

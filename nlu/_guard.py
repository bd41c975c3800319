"""Rules that correct an intent classifier's guess by what the words actually say.

Pure function, used by the Rasa component :mod:`nlu.components.intent_guard` and by the
tests; see that module for why.
"""

from __future__ import annotations

import re

from ._emergency import EmergencyLevel, assess_emergency
from ._normalize import normalize_text

__all__ = ["CHANNEL_ONLY_INTENTS", "guard_intent"]

#: Intents that only a channel event carries (as a ``/intent{…}`` payload), never text.
CHANNEL_ONLY_INTENTS = frozenset(
    {"share_location", "share_contact", "share_attachment", "call_ended", "start_survey"}
)
_SMALL_TALK = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope"}
)
_REPORT = "report_problem"
_CJK = re.compile(r"[\u4e00-\u9fff]")
# A message with this many Chinese characters says more than small talk does.
_SUBSTANTIVE_CHARS = 14

_HUMAN_WORDS = re.compile(r"人工|真人|客服|接线员|话务员|坐席|领导|负责人|机器人|转接|找人")
_STATUS_WORDS = re.compile(
    r"工单|查询|查一下|查查|进度|进展|办到|处理得怎么样|处理的怎么样|怎么样了|修了吗|有结果了吗|"
    r"有没有结果|处理了吗|办了吗|"
    r"[A-Za-z]{2}\d{8}-[0-9A-Za-z]{6}"
)
_CANCEL_WORDS = re.compile(
    r"取消|算了|不用了|不需要了|不报了|不登记|不反映|撤销|撤回|不要了|不说了|不投诉"
)


def _cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def guard_intent(intent: str, text: str) -> tuple[str, str] | None:
    """The intent to use instead of ``intent`` for ``text``, with the reason; None to keep.

    Args:
        intent: The classifier's (or the fallback classifier's) intent name.
        text: The message as typed or recognised (not a ``/intent`` payload).
    """
    norm = normalize_text(text)
    danger = assess_emergency(norm)
    if danger.level is EmergencyLevel.ADVICE:
        return None if intent == "emergency" else ("emergency", "present danger in the words")
    if intent == "emergency":
        return _REPORT, f"no present danger ({danger.level.name.lower()})"
    substantive = _cjk_count(norm) >= _SUBSTANTIVE_CHARS
    if intent in CHANNEL_ONLY_INTENTS:
        return _REPORT, "channel-only intent predicted from text"
    if intent in _SMALL_TALK and substantive:
        return _REPORT, "small talk predicted for a substantive message"
    if intent == "cancel" and (substantive or not _CANCEL_WORDS.search(norm)):
        return _REPORT, "cancel without cancel words"
    if intent == "request_human" and not _HUMAN_WORDS.search(norm):
        return _REPORT, "handoff without a word asking for a person"
    if intent == "inquire_status" and not _STATUS_WORDS.search(norm):
        return _REPORT, "status inquiry without a word about a ticket"
    return None

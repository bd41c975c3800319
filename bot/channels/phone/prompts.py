"""Fixed phone prompts and the pure text rules of the voice channel."""

from __future__ import annotations

import re
from enum import Enum

from bot.gateway.rasa_client import BotButton, BotMessage
from nlu.negation import is_negated
from speech.tts_text import speak_masked_numbers

__all__ = [
    "PhoneAction",
    "WrapUpAnswer",
    "SHORT_ANSWER_PHRASES",
    "ANYTHING_ELSE",
    "GOODBYE",
    "GOODBYE_NO_INPUT",
    "GOODBYE_SILENT",
    "GREETING",
    "GO_AHEAD",
    "LINES_BUSY",
    "GREETING_QUESTION",
    "NOT_UNDERSTOOD",
    "NO_INPUT",
    "SYSTEM_BUSY",
    "SYSTEM_HOLD",
    "TRANSFER",
    "TRANSFER_UNAVAILABLE",
    "button_options",
    "is_affirmative",
    "is_done",
    "match_button",
    "opens_form",
    "phone_action",
    "speech_chunks",
    "spoken_reply",
    "wants_human",
    "wrap_up_answer",
]

GREETING = "您好，这里是12345市民服务热线智能助理。请说出您要反映的问题，需要人工服务请说转人工。"
GREETING_QUESTION = "请说出您要反映的问题。"
NO_INPUT = "抱歉，没有听到您的声音，请再说一遍。"
NOT_UNDERSTOOD = "抱歉，我没有听清，请再说一遍。"
GOODBYE_NO_INPUT = (
    "一直没有听到您的声音。您已经反映的内容我们会记录下来，工作人员会尽快回电。感谢来电，再见。"
)
GOODBYE_SILENT = "一直没有听到您的声音，请稍后再拨12345。再见。"
SYSTEM_HOLD = "抱歉，系统有点忙，请您稍等，不要挂机。"
LINES_BUSY = (
    "您好，这里是12345市民服务热线。现在来电较多，线路繁忙，请您稍后再拨，"
    "也可以在网页或Telegram上留言反映。感谢您的耐心，再见。"
)
SYSTEM_BUSY = "抱歉，系统繁忙。您反映的内容我们会记录下来，工作人员会尽快回电。再见。"
TRANSFER = "正在为您转接人工服务，请稍候。"
TRANSFER_UNAVAILABLE = "抱歉，人工坐席暂时无法接通。您反映的问题我们已记录，工作人员会尽快回电。"
ANYTHING_ELSE = "请问还有其他问题吗？"
GOODBYE = "感谢您的来电，再见。"
GO_AHEAD = "好的，请讲。"
#: Short answers the recogniser is steered towards at button prompts (with the button titles).
SHORT_ANSWER_PHRASES: tuple[str, ...] = ("确认", "不对", "满意", "基本满意", "不满意", "是", "不是")

_HUMAN = ("转人工", "人工服务", "人工客服", "找人工")
_DIGIT_WORDS = {"一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                "七": 7, "八": 8, "九": 9}  # fmt: skip
_URL = re.compile(r"https?://\S+")
_NOT_SPOKEN = re.compile(r"[*_#`>|\[\]]|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")
# Not part of what a caller says for a title (市容环境·噪音 is said 市容环境噪音).
_TITLE_NOISE = re.compile(r"[\s·・]")
_PUNCT = re.compile(r"[\s。，、！？,.!?；;：:…~～]")
# A title said after 不 ("不需要保密") may select the 不-title button; negation scope itself is
# the one rule of nlu.negation ("不，需要保密" is not negated).
_NEGATOR_BU = re.compile(r"不[^不没，,。.!！?？]*$")
_PARTICLE = r"(?:的|吧|啊|呀|哈|了|呢|啦)*"
_AFFIRMATIVE = re.compile(
    rf"^(?:(?:嗯|是|对|好|行|可以|没问题|没错|就?用(?:这个|现在的|本机的?)?(?:号码?|电话)?){_PARTICLE})+$"
)
_DONE_WORD = (
    r"(?:没有?(?:其他的?|别的)?(?:什么)?(?:问题|事情?)?了?|不(?:需要|用)了?|就这些了?"
    r"|暂时(?:没有?|不用|不需要)了?|就这样(?:吧|了)?|再见|拜拜|谢谢(?:你|您)?)"
)
_FILLER = r"(?:好的?|嗯|行|那|哦|啊|呀|吧|啦)"
_DONE = re.compile(rf"^{_FILLER}*{_DONE_WORD}(?:{_DONE_WORD}|{_FILLER})*$")
# "Yes, there is more" with nothing said yet: 有, 还有, 有，还有一个问题, 还有一件事.
_MORE = re.compile(
    rf"^{_FILLER}*(?:(?:我|是的?|对)?还?有(?:的|啊|呀|呢)?)+"
    r"(?:一?[个件点]|别的|其他的?)?(?:问题|事情?)?(?:要(?:反映|说|问|讲))?(?:的|啊|呀|呢)*$"
)
# Words that carry no problem: an answer made of these alone is a backchannel
# (嗯, 对, 是的) or a no (没什么问题), never a complaint's description.
_CONTENT_FREE = re.compile(
    r"^(?:没有|没|不|别|暂时|其他的?|别的|什么|问题|事情?|了|谢谢|你|您|需要|用|就|这样|这些"
    r"|嗯|哦|啊|呀|啦|吧|呢|哈|那|好的?|行|对|是的?|可以|知道|明白|OK|ok)*$"
)
_NEGATION = re.compile(r"[没不别]")
# Where a reply may be cut for speech: sentence ends, list colons/semicolons, line breaks
# (the read-back is one line per field with no 。 until its end).
_CLAUSE_END = re.compile(r"(?<=[。！？!?：；;\n])")
MIN_CHUNK_CHARS = 4
_ENDS_LINE = "。！？!?\n"


def button_options(buttons: list[BotButton]) -> str:
    """Read buttons as keypad options: 确认请按1，修改请按2。"""
    parts = [
        f"{speak_masked_numbers(b['title'])}请按{i}"
        for i, b in enumerate(buttons, 1)
        if b.get("title")
    ]
    return ("，".join(parts) + "。") if parts else ""


def spoken_reply(messages: list[BotMessage]) -> tuple[str, list[BotButton]]:
    """Join Rasa replies into one spoken text and return the buttons offered last."""
    texts: list[str] = []
    buttons: list[BotButton] = []
    for msg in messages:
        # Masked numbers first: stripping their * would fuse 138****1111 into 1381111.
        text = speak_masked_numbers(_URL.sub("", msg.get("text", "")))
        text = _NOT_SPOKEN.sub("", text).strip()
        if text:
            texts.append(text if text[-1] in "。！？!?，,；;：:" else text + "。")
        if msg.get("buttons"):
            buttons = list(msg["buttons"])
    options = button_options(buttons)
    return "".join(texts) + options, buttons


def is_affirmative(text: str) -> bool:
    """A bare yes (是, 是的, 对, 可以, 好, 嗯, 行, 就用这个…), nothing else in it."""
    return bool(_AFFIRMATIVE.match(_PUNCT.sub("", text)))


def is_done(text: str) -> bool:
    """The caller has nothing more to say (没有, 没了, 再见, 没有了谢谢…)."""
    return bool(_DONE.match(_PUNCT.sub("", text)))


class WrapUpAnswer(str, Enum):
    """What the caller meant at 请问还有其他问题吗？"""

    DONE = "done"  # 没有, 没什么了, 不需要了: say goodbye
    MORE = "more"  # 有, 还有一件事: ask the caller to go on
    AGAIN = "again"  # 嗯, 对: a backchannel, ask again
    TALK = "talk"  # anything with substance: a normal turn for Rasa


class PhoneAction(str, Enum):
    """Call control requested by the assistant in a reply's ``custom`` payload."""

    HANGUP = "hangup"
    TRANSFER = "transfer"
    WRAP_UP = "wrap_up"  # the ticket is filed: ask once whether there is anything else


def wrap_up_answer(text: str) -> WrapUpAnswer:
    """Classify an answer to 请问还有其他问题吗？ so content-free words never reach Rasa.

    Rasa reads an unknown short answer as a new complaint (nlu_fallback still opens
    the form), so only a real problem may go there.  Returns ``"done"`` (没有,
    没什么了, 不需要了: say goodbye), ``"more"`` (有, 还有一件事: ask the caller to
    go on), ``"again"`` (嗯, 对: a backchannel, ask again) or ``"talk"`` (anything
    with substance: a normal turn).
    """
    t = _PUNCT.sub("", text)
    if is_done(t):
        return WrapUpAnswer.DONE
    if _MORE.match(t):
        return WrapUpAnswer.MORE
    if _CONTENT_FREE.match(t):
        return WrapUpAnswer.DONE if _NEGATION.search(t) else WrapUpAnswer.AGAIN
    return WrapUpAnswer.TALK


def _title_spans(answer: str, buttons: list[BotButton]) -> list[tuple[int, int, int]]:
    """(start, end, button index) of every place a button title occurs in ``answer``."""
    spans = []
    for i, b in enumerate(buttons):
        title = _TITLE_NOISE.sub("", b.get("title") or "")
        start = answer.find(title) if title else -1
        while start >= 0:
            spans.append((start, start + len(title), i))
            start = answer.find(title, start + 1)
    # 满意 inside 不满意 is not a separate mention of 满意.
    return [
        s
        for s in spans
        if not any(o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0] for o in spans)
    ]


def match_button(text: str, buttons: list[BotButton]) -> str | None:
    """Map a spoken answer or a key to a button payload; None = send the words to Rasa.

    Accepts the exact title, a title contained in the answer (the longest one,
    so 不满意 wins over 满意 and 基本满意 over 满意), the option number ("1",
    "一", "按一"), and at a single-button prompt a bare yes (是的, 对, 嗯).  A
    title said after a negation (不需要保密, 别取消, 不是很满意) never selects its
    button: a negated answer selects the 不-title button if there is one
    (不是非常满意, 谈不上满意 → 不满意) and otherwise goes to Rasa as free text,
    which reads it whole.
    """
    answer = _TITLE_NOISE.sub("", text)
    t = _PUNCT.sub("", answer)
    if not t or not buttons:
        return None
    for b in buttons:
        if t == _TITLE_NOISE.sub("", b.get("title") or ""):
            return b["payload"]
    negated: set[int] = set()
    found: dict[int, int] = {}  # button index -> first position
    opposite: set[int] = set()  # the 不… button of a title said after 不
    for start, _end, i in _title_spans(answer, buttons):
        if is_negated(answer, start):
            negated.add(i)
            if _NEGATOR_BU.search(answer[:start]):
                opposite |= _opposite_buttons(buttons[i], buttons)
        found.setdefault(i, start)
    candidates = [i for i in found if i not in negated]
    if not candidates and len(opposite) == 1:
        return buttons[opposite.pop()]["payload"]
    if candidates:
        best = max(candidates, key=lambda i: (len(_TITLE_NOISE.sub("", buttons[i]["title"])),
                                              -found[i]))  # fmt: skip
        return buttons[best]["payload"]
    if negated:
        return None
    if len(buttons) == 1 and is_affirmative(t):
        return buttons[0]["payload"]
    t = t.removeprefix("按").removeprefix("第")
    n = int(t) if t.isdigit() else _DIGIT_WORDS.get(t)
    if n is not None and 1 <= n <= len(buttons):
        return buttons[n - 1]["payload"]
    return None


def _opposite_buttons(button: BotButton, buttons: list[BotButton]) -> set[int]:
    """Buttons titled 不 + ``button``'s title (满意 → 不满意)."""
    title = "不" + _TITLE_NOISE.sub("", button.get("title") or "")
    return {i for i, b in enumerate(buttons) if _TITLE_NOISE.sub("", b.get("title") or "") == title}


def speech_chunks(text: str) -> list[str]:
    """Cut a reply where it can be spoken in pieces, so the first piece plays sooner.

    Cuts after 。！？：； and line breaks.  A piece with fewer than
    :data:`MIN_CHUNK_CHARS` spoken characters is not said alone, so prosody is
    not choppy: a short line end (否 after 个人信息保密：) stays with the piece
    before it, anything else short (the label 类型：) with the piece after it.
    """
    chunks: list[str] = []
    buf = ""
    for part in _CLAUSE_END.split(text):
        buf += part
        if _spoken_len(buf) >= MIN_CHUNK_CHARS:
            chunks.append(buf)
            buf = ""
        elif chunks and _spoken_len(buf) and buf.rstrip(" ")[-1:] in _ENDS_LINE:
            chunks[-1] += buf
            buf = ""
    if _spoken_len(buf) or not chunks:
        if chunks:
            chunks[-1] += buf
        elif buf.strip():
            chunks.append(buf)
    return chunks


def _spoken_len(text: str) -> int:
    return len(re.findall(r"\w", text))


def wants_human(text: str) -> bool:
    """True when the resident asks for a human agent (转人工)."""
    return any(k in text for k in _HUMAN)


def opens_form(messages: list[BotMessage]) -> bool:
    """Rasa asked for a form slot: buttons to choose from or an ``{"ask": …}`` prompt.

    After the wrap-up question this tells a new complaint (the form asks where,
    which kind, which phone…) from a reply that ends nothing (utter_goodbye after
    再见, utter_default), which must leave the call in its wrap-up.
    """
    return any(msg.get("buttons") or (msg.get("custom") or {}).get("ask") for msg in messages)


def phone_action(messages: list[BotMessage]) -> PhoneAction | None:
    """A call-control request in Rasa's ``custom`` payload.

    ``{"phone": "hangup"}`` / ``{"phone": "transfer"}`` (or ``{"handoff": true}``), and
    ``{"phone": "wrap_up"}``: the caller's business is done (ticket filed), so ask
    once whether there is anything else and hang up on silence or 没有.
    """
    for msg in messages:
        custom = msg.get("custom") or {}
        action = custom.get("phone")
        if action in {a.value for a in PhoneAction}:
            return PhoneAction(action)
        if custom.get("handoff"):
            return PhoneAction.TRANSFER
    return None

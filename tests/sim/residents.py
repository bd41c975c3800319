"""Resident behaviours: what a simulated resident says next.

A :class:`Resident` has a hidden :class:`Truth` (description, address, phone,
time, name, confidentiality wish), a few :class:`Behaviour` objects (tried in
order for each question; the plain answer is the fallback) and a few
:class:`Style` objects (fillers, typos, no punctuation, traditional script,
emoji) applied to everything the resident *types*.  Button presses send the
payload untouched.  Styles never touch a value (address, phone, name, time)
except by reversible means (traditional script, which the checks undo), so
the values can be compared verbatim with the ticket.

While talking, the resident keeps an :class:`Expectation` up to date: which
values it actually said, which it corrected, whether it confirmed a cancel,
and how many extra turns its own behaviours spent (see :data:`TURN_BUDGET_DOC`).
"""

from __future__ import annotations

import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum

from tests.sim.openings import Opening, long_detail, random_address, random_phone

__all__ = [
    "Field",
    "Ask",
    "Button",
    "Truth",
    "Expectation",
    "Say",
    "Part",
    "Style",
    "Behaviour",
    "Resident",
    "STYLES",
    "BEHAVIOURS",
    "TURN_BUDGET_DOC",
    "to_simplified",
    "to_traditional",
]

TURN_BUDGET_DOC = """\
Turn budget (invariant e).  turns = number of resident messages, the opening included.
budget = missing + 3 + extra, where
  missing = the form questions the resident still had to answer after the opening:
            location, phone and confidentiality, minus those the opening itself stated
            (address / phone / 保密 written in it); +1 for the description when the
            opening was not accepted as one is NOT granted (openings are descriptions);
  3       = the opening itself + a category question (asked only when the classifier is
            unsure) + the read-back confirmation;
  extra   = what the resident's own behaviours spend on purpose:
            ask-back +1, answering another field than asked +1, a correction at the
            read-back +1, cancel-then-resume +2 (the 算了 and the 继续), a confirmed cancel
            +1 (the 确定取消 if the bot asks back), an open ticket offered as the same
            problem +1 (the 不是; asked by the bot, not chosen by the resident).  Declining, fillers, typos, scripts,
            emoji, long text, typing a button title: 0 (the bot must take them in one turn).
"""


class Field(Enum):
    """What the bot is asking (read from the tracker, not from the wording)."""

    DESCRIPTION = "complaint_description"
    CATEGORY = "complaint_category"
    LOCATION = "complaint_location"
    PHONE = "contact_phone"
    ANONYMOUS = "anonymous"
    CONFIRMATION = "confirmation"
    WHICH_CORRECTION = "which_correction"
    CORRECTION_VALUE = "correction_value"
    CANCEL_CHECK = "cancel_check"  # "确定不登记了吗？" after a cancel request
    DUPLICATE_CHECK = "duplicate_check"  # "已有工单…是同一个问题吗？" after the read-back
    NONE = "none"  # no form open


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Ask:
    """One bot turn as the resident sees it."""

    field: Field
    buttons: tuple[Button, ...] = ()
    pending: str | None = None  # slot being corrected when field is CORRECTION_VALUE
    text: str = ""
    filled: frozenset[Field] = frozenset()  # form slots the bot already holds


@dataclass
class Truth:
    """What the resident knows and would say when asked."""

    opening: Opening
    address: str
    phone: str
    time: str
    name: str
    wants_confidential: bool
    channel_phone: str | None = None  # the number the channel knows (metadata)


@dataclass
class Expectation:
    """What the ticket must show, given what the resident actually said."""

    description: str = ""
    address: str | None = None
    old_addresses: list[str] = field(default_factory=list)
    phone: str | None = None
    phone_declined: bool = False
    old_phones: list[str] = field(default_factory=list)
    anonymous: bool | None = None
    category: str | None = None
    time: str | None = None
    name: str | None = None
    emergency: bool = False
    cancelled: bool = False
    missing: int = 3
    extra_turns: int = 0


@dataclass(frozen=True)
class Part:
    text: str
    protected: bool = False  # a value: styles may not alter it (except the script)


@dataclass(frozen=True)
class Say:
    """One resident message: typed parts, or a button press."""

    parts: tuple[Part, ...] = ()
    payload: str | None = None
    by: str = "answer"

    @property
    def typed(self) -> bool:
        return self.payload is None


def typed(*parts: str | Part, by: str = "answer") -> Say:
    return Say(tuple(p if isinstance(p, Part) else Part(p) for p in parts), by=by)


def value(text: str) -> Part:
    return Part(text, protected=True)


# --- scripts ---------------------------------------------------------------

_s2t = None
_t2s = None


def to_traditional(text: str) -> str:
    global _s2t
    if _s2t is None:
        import opencc

        _s2t = opencc.OpenCC("s2t")
    return str(_s2t.convert(text))


def to_simplified(text: str) -> str:
    global _t2s
    if _t2s is None:
        import opencc

        _t2s = opencc.OpenCC("t2s")
    return str(_t2s.convert(text))


# --- styles ----------------------------------------------------------------


class Style(ABC):
    """A way of writing; applied to every typed message of the resident."""

    name: str

    @abstractmethod
    def apply(self, parts: list[Part], rng: random.Random) -> list[Part]: ...


class Fillers(Style):
    name = "fillers"
    WORDS = ("那个，", "就是", "嗯，", "那个就是，", "呃，", "嗯嗯，就是")

    def apply(self, parts: list[Part], rng: random.Random) -> list[Part]:
        out = [Part(rng.choice(self.WORDS))]
        for p in parts:
            out.append(p)
            if p.protected and rng.random() < 0.3:
                out.append(Part("，就是"))
        return out


class Typos(Style):
    """Homophone typos, as from a pinyin keyboard (never inside a value)."""

    name = "typos"
    PAIRS = (("的", "得"), ("在", "再"), ("已经", "以经"), ("反映", "反应"), ("一直", "一只"),
             ("楼道", "楼到"), ("噪音", "躁音"), ("处理", "处里"), ("马上", "马尚"), ("现在", "现再"),
             ("那个", "那各"), ("地址", "地止"), ("电话", "电化"), ("时间", "时见"))  # fmt: skip

    def apply(self, parts: list[Part], rng: random.Random) -> list[Part]:
        out = []
        for p in parts:
            text = p.text
            if not p.protected:
                for right, wrong in self.PAIRS:
                    if right in text and rng.random() < 0.5:
                        text = text.replace(right, wrong, 1)
            out.append(Part(text, p.protected))
        return out


_PUNCT = re.compile(r"[，。！？、；：,.!?;:“”\"'（）()\s]+")


class NoPunctuation(Style):
    """Speech-recogniser output: no punctuation, no spaces."""

    name = "no_punct"

    def apply(self, parts: list[Part], rng: random.Random) -> list[Part]:
        return [Part(_PUNCT.sub("", p.text), p.protected) for p in parts]


class Traditional(Style):
    name = "traditional"

    def apply(self, parts: list[Part], rng: random.Random) -> list[Part]:
        return [Part(to_traditional(p.text), p.protected) for p in parts]


EMOJI = ("😡", "🙏", "😭", "👍", "😤", "🏠", "🔥", "❤️", "😅")


class Emoji(Style):
    name = "emoji"

    def apply(self, parts: list[Part], rng: random.Random) -> list[Part]:
        out = list(parts)
        out.append(Part(rng.choice(EMOJI) * rng.randint(1, 3)))
        if rng.random() < 0.3:
            out.insert(0, Part(rng.choice(EMOJI)))
        return out


STYLES: dict[str, type[Style]] = {
    s.name: s for s in (Fillers, Typos, NoPunctuation, Traditional, Emoji)
}


# --- behaviours --------------------------------------------------------------

FIELD_WORD = {Field.LOCATION: "地点", Field.PHONE: "联系电话"}
ASK_BACKS = ("你们多久能处理？", "这归谁管？", "我先想想", "你们会派人来吗？", "这个要多长时间？")
PHONE_DECLINES = ("不用", "不需要", "没有", "不用了", "不想留电话")
ANON_DECLINES = ("不用", "不需要", "无所谓", "不用了", "不用保密", "没有")
_FORM_FIELDS = (Field.CATEGORY, Field.LOCATION, Field.PHONE, Field.ANONYMOUS)


class Behaviour(ABC):
    """Something a resident does; ``reply`` returns None to let the next one speak."""

    name: str

    def __init__(self, rng: random.Random):
        self.rng = rng

    @abstractmethod
    def reply(self, ask: Ask, r: Resident) -> Say | None: ...


class AnswersAll(Behaviour):
    """Gives several fields at once: the asked one plus every one not yet given."""

    name = "multi_field"

    def reply(self, ask: Ask, r: Resident) -> Say | None:
        if ask.field not in (Field.LOCATION, Field.PHONE) or r.given_all_once:
            return None
        r.given_all_once = True
        parts: list[str | Part] = []
        # Volunteered extras only for what the bot does not hold yet (a TipDM opening
        # may name its own place; contradicting it would test the simulation, not the bot).
        order = [ask.field] + [
            f for f in (Field.LOCATION, Field.PHONE) if f != ask.field and f not in ask.filled
        ]
        for f in order:
            if f == Field.LOCATION:
                parts += [value(r.truth.address), "，"]
                r.expect.address = r.truth.address
            else:
                parts += ["电话", value(r.truth.phone), "，"]
                r.expect.phone = r.truth.phone
        if self.rng.random() < 0.5:
            parts += ["我叫", value(r.truth.name), "，"]
            r.expect.name = r.truth.name
        parts[-1] = "。"
        return typed(*parts, by=self.name)


class AnswersOtherField(Behaviour):
    """Once, answers another field than the one asked (the phone at the address question)."""

    name = "other_field"

    def reply(self, ask: Ask, r: Resident) -> Say | None:
        if ask.field not in (Field.LOCATION, Field.PHONE) or r.used(self.name):
            return None
        other = Field.PHONE if ask.field == Field.LOCATION else Field.LOCATION
        said = r.expect.address if other == Field.LOCATION else r.expect.phone
        if other in ask.filled and said is None:
            return None  # the bot took it from an opening the resident did not word itself
        r.spend(self.name, 1)
        if ask.field == Field.LOCATION:
            r.expect.phone = r.truth.phone
            return typed("我的电话是", value(r.truth.phone), by=self.name)
        r.expect.address = r.truth.address
        return typed("地方是", value(r.truth.address), by=self.name)


class AsksBack(Behaviour):
    """Once, answers a question with a question (or a pause), then answers."""

    name = "ask_back"

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.target = rng.choice((Field.LOCATION, Field.PHONE, Field.ANONYMOUS, Field.CATEGORY))

    def reply(self, ask: Ask, r: Resident) -> Say | None:
        if r.used(self.name):
            return None
        if ask.field == self.target or ask.field == Field.CONFIRMATION:
            r.spend(self.name, 1)
            return typed(self.rng.choice(ASK_BACKS), by=self.name)
        return None


class DeclinesOptional(Behaviour):
    """Says no to the phone and/or confidentiality questions (twice at most, then gives in)."""

    name = "declines"

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.fields = rng.choice(
            ((Field.PHONE,), (Field.ANONYMOUS,), (Field.PHONE, Field.ANONYMOUS))
        )
        self.count: dict[Field, int] = {}

    def reply(self, ask: Ask, r: Resident) -> Say | None:
        if ask.field not in self.fields:
            return None
        n = self.count.get(ask.field, 0)
        self.count[ask.field] = n + 1
        if n >= 2:
            return None  # gives in: the plain answer sets the expectation
        if ask.field == Field.PHONE:
            r.expect.phone, r.expect.phone_declined = None, True
            return typed(self.rng.choice(PHONE_DECLINES), by=self.name)
        r.expect.anonymous = False
        return typed(self.rng.choice(ANON_DECLINES), by=self.name)


class CorrectsAtReadBack(Behaviour):
    """At the first read-back, corrects one field ("地址不对，是…", "电话改成139…")."""

    name = "correction"

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.target = rng.choice((Field.LOCATION, Field.PHONE, "time"))
        self.new_value = ""
        self.done = False

    def reply(self, ask: Ask, r: Resident) -> Say | None:
        if ask.field == Field.CONFIRMATION and not r.used(self.name):
            r.spend(self.name, 1)
            rng = self.rng
            if self.target == Field.LOCATION:
                self.new_value = random_address(rng)
                if r.expect.address:
                    r.expect.old_addresses.append(r.expect.address)
                r.expect.address = self.new_value
                return typed("地址不对，是", value(self.new_value), by=self.name)
            if self.target == Field.PHONE:
                self.new_value = "139" + random_phone(rng)[3:]
                if r.expect.phone:
                    r.expect.old_phones.append(r.expect.phone)
                r.expect.phone, r.expect.phone_declined = self.new_value, False
                return typed("电话改成", value(self.new_value), by=self.name)
            self.new_value = rng.choice(("昨天晚上", "前天下午", "今天早上"))
            r.expect.time = self.new_value
            return typed("时间是", value(self.new_value), by=self.name)
        if not r.used(self.name) or self.done:
            return None
        if ask.field == Field.WHICH_CORRECTION:
            word = "时间" if self.target == "time" else FIELD_WORD[self.target]  # type: ignore[index]
            return typed(word, by=self.name)
        if ask.field == Field.CORRECTION_VALUE:
            self.done = True
            return typed(value(self.new_value), by=self.name)
        if ask.field == Field.CONFIRMATION:
            self.done = True
        return None


class CancelsThenResumes(Behaviour):
    """Says 算了 at some question, then "不，还是继续登记吧", then goes on."""

    name = "cancel_resume"

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.target = rng.choice(_FORM_FIELDS + (Field.CONFIRMATION,))
        self.stage = 0

    def reply(self, ask: Ask, r: Resident) -> Say | None:
        if self.stage == 0 and (ask.field == self.target or ask.field == Field.CONFIRMATION):
            self.stage = 1
            r.spend(self.name, 2)
            return typed(self.rng.choice(("算了", "算了吧", "算了，不想说了")), by=self.name)
        if self.stage == 1:
            self.stage = 2
            return typed(
                self.rng.choice(("不，还是继续登记吧", "等等，还是继续吧", "不不，继续登记")),
                by=self.name,
            )
        return None


class ConfirmsCancel(Behaviour):
    """Cancels for good (then NO ticket may exist)."""

    name = "confirm_cancel"

    def __init__(self, rng: random.Random):
        super().__init__(rng)
        self.target = rng.choice(_FORM_FIELDS + (Field.CONFIRMATION,))
        self.stage = 0

    def reply(self, ask: Ask, r: Resident) -> Say | None:
        if self.stage == 0 and (ask.field == self.target or ask.field == Field.CONFIRMATION):
            self.stage = 1
            r.expect.cancelled = True
            r.spend(self.name, 1)
            return typed(
                self.rng.choice(("算了，不登记了", "取消吧", "不用了，不报了")), by=self.name
            )
        if self.stage == 1 and ask.field != Field.NONE:
            self.stage = 2
            return typed("对，确定取消，不登记了", by=self.name)
        if self.stage >= 1:
            r.walk_away = True
            return None
        return None


class TypesButtonTitles(Behaviour):
    """Types the title of the button it wants instead of pressing it (flag only)."""

    name = "types_buttons"

    def reply(self, ask: Ask, r: Resident) -> Say | None:
        r.type_buttons = True
        return None


class LongText(Behaviour):
    """Writes a very long opening (1,000–3,000 characters); flag only."""

    name = "long_text"

    def reply(self, ask: Ask, r: Resident) -> Say | None:
        return None


BEHAVIOURS: dict[str, type[Behaviour]] = {
    b.name: b
    for b in (
        AnswersAll,
        AnswersOtherField,
        AsksBack,
        DeclinesOptional,
        CorrectsAtReadBack,
        CancelsThenResumes,
        ConfirmsCancel,
        TypesButtonTitles,
        LongText,
    )
}


# --- the resident ------------------------------------------------------------


class Resident:
    """Behaviours + styles + truth; answers one :class:`Ask` at a time."""

    def __init__(
        self,
        truth: Truth,
        behaviours: list[Behaviour],
        styles: list[Style],
        rng: random.Random,
        *,
        opening_with: tuple[str, ...] = (),
    ):
        self.truth = truth
        self.behaviours = behaviours
        self.styles = styles
        self.rng = rng
        self.opening_with = opening_with  # "address", "phone", "time", "confidential"
        self.expect = Expectation(emergency=truth.opening.emergency)
        self.given_all_once = False
        self.type_buttons = any(isinstance(b, TypesButtonTitles) for b in behaviours)
        self.walk_away = False
        self.restated = False
        self._spent: dict[str, int] = {}

    @property
    def labels(self) -> list[str]:
        names = [b.name for b in self.behaviours] or ["plain"]
        return names + [s.name for s in self.styles]

    def used(self, name: str) -> bool:
        return name in self._spent

    def spend(self, name: str, turns: int) -> None:
        self._spent[name] = self._spent.get(name, 0) + turns
        self.expect.extra_turns += turns

    # --- rendering
    def render(self, say: Say) -> str:
        if say.payload is not None:
            return say.payload
        parts = list(say.parts)
        for style in self.styles:
            parts = style.apply(parts, self.rng)
        return "".join(p.text for p in parts)

    # --- the opening
    def opening(self) -> Say:
        t = self.truth
        problem = t.opening.problem
        if any(isinstance(b, LongText) for b in self.behaviours):
            problem = problem + "。" + long_detail(self.rng, 1000, 2800)
        parts: list[str | Part] = []
        if "time" in self.opening_with:
            parts += [value(t.time), "，"]
        parts.append(problem)
        missing = 3
        if "address" in self.opening_with:
            parts += [self.rng.choice(("，地址是", "，在", "。地点：")), value(t.address)]
            self.expect.address = t.address
            missing -= 1
        if "phone" in self.opening_with:
            parts += [self.rng.choice(("，电话", "，我的电话是", "，联系方式")), value(t.phone)]
            self.expect.phone = t.phone
            missing -= 1
        if "confidential" in self.opening_with:
            parts.append("，请对我的信息保密")
            self.expect.anonymous = True
            missing -= 1
        self.expect.missing = missing
        return typed(*parts, by="opening")

    # --- one answer
    def reply(self, ask: Ask) -> Say | None:
        """The next message, or None when the resident has nothing more to say."""
        if self.walk_away:
            return None
        for b in self.behaviours:
            out = b.reply(ask, self)
            if out is not None:
                return out
            if self.walk_away:
                return None
        return self.answer(ask)

    def _press(self, ask: Ask, payload: str, title: str | None = None) -> Say:
        button = next((b for b in ask.buttons if b.payload == payload), None)
        if button is None and title is not None:
            button = next((b for b in ask.buttons if b.title == title), None)
        if button is None:
            return typed(title or payload)
        if self.type_buttons:
            return typed(button.title, by="types_buttons")
        return Say(payload=button.payload)

    def answer(self, ask: Ask) -> Say | None:
        t, e = self.truth, self.expect
        f = ask.field
        if f == Field.DESCRIPTION:
            return typed(t.opening.problem)
        if f == Field.CATEGORY:
            real = [b for b in ask.buttons if b.payload != "其他"]
            if not ask.buttons:
                e.category = None
                return typed("其他")
            pick = self.rng.choice(real) if real and self.rng.random() < 0.85 else ask.buttons[-1]
            e.category = pick.payload
            return self._press(ask, pick.payload)
        if f == Field.LOCATION:
            e.address = t.address
            return typed(self.rng.choice(("", "在", "地址是", "就在")), value(t.address))
        if f == Field.PHONE:
            e.phone, e.phone_declined = t.phone, False
            if t.channel_phone and t.channel_phone == t.phone and ask.buttons:
                return self._press(ask, t.phone)
            return typed(self.rng.choice(("", "电话", "我的手机号是")), value(t.phone))
        if f == Field.ANONYMOUS:
            e.anonymous = t.wants_confidential
            if t.wants_confidential:
                return self._press(ask, "需要保密")
            return self._press(ask, "不需要保密", "不需要")
        if f == Field.CONFIRMATION:
            return self._press(ask, "确认")
        if f == Field.WHICH_CORRECTION:
            return typed("没有要改的，确认提交")
        if f == Field.CORRECTION_VALUE:
            return typed("不改了，就这样确认")
        if f == Field.CANCEL_CHECK:
            # Asked whether to stop without having asked to: go on with the complaint.
            return self._press(ask, "继续登记")
        if f == Field.DUPLICATE_CHECK:
            # Each simulated resident has a problem of their own: a ticket of their own.
            self.expect.extra_turns += 1
            return self._press(ask, "不是同一个问题", "不是")
        # No form open and no ticket.
        if e.cancelled:
            return None
        if not self.restated:
            self.restated = True
            return typed("我还没说完，", t.opening.problem)
        return None

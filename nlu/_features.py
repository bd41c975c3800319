"""Text features for the category classifier (picklable, jieba-based)."""

from __future__ import annotations

import re
from typing import Any

from ._lazy import Lazy
from ._normalize import normalize_text
from ._settings import DICTIONARY_DIR

__all__ = [
    "HEAD_CHARS",
    "MAX_CHARS",
    "encoder_text",
    "get_tokenizer",
    "head_text",
    "prepare_text",
    "word_ngrams",
    "word_unigrams",
]

#: The classifier reads at most this many characters of a message (its start holds the
#: subject; the cap bounds the cost of pasted or dictated walls of text).
MAX_CHARS = 1000
#: Length of the opening (title or first sentence) given its own feature block.
HEAD_CHARS = 40

_DIGITS = re.compile(r"\d+")
_PUNCT = re.compile(r"^[\W_]+$")
_STOPWORDS = frozenset(
    "的 了 是 我 你 他 她 它 们 我们 你们 他们 这 那 这个 那个 就是 嗯 啊 呃 吧 呢 吗 呀 哦 喂 "
    "在 和 跟 与 及 也 都 还 又 很 太 就 才 把 被 给 对 从 往 到 有 没 不 会 能 要 想 说 让 "
    "一个 一下 一些 什么 怎么 为什么 已经 还是 然后 但是 因为 所以 如果 可以 现在 问题 情况".split()
)


def _make_tokenizer() -> Any:
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for path in sorted(DICTIONARY_DIR.glob("*.txt")):
        tokenizer.load_userdict(str(path))
    return tokenizer


_TOKENIZER: Lazy[Any] = Lazy(_make_tokenizer)


def get_tokenizer() -> Any:
    """Return the shared ``jieba.Tokenizer`` with the Jiesu user dictionary loaded.

    Returns:
        A ``jieba.Tokenizer`` instance (never the global ``jieba.dt``).
    """
    return _TOKENIZER.get()


def prepare_text(text: str) -> str:
    """Normalise a complaint for the classifier (digits collapse to "0").

    Args:
        text: Raw text.

    Returns:
        Classifier input text.
    """
    return _DIGITS.sub("0", normalize_text(text[: MAX_CHARS + 200]).lower()[:MAX_CHARS])


def encoder_text(text: str) -> str:
    """What the sentence encoder reads of a complaint: normalised (digits kept).

    Args:
        text: Raw text.

    Returns:
        The normalised text, cut to ``MAX_CHARS`` (the encoder cuts further).
    """
    return normalize_text(text[: MAX_CHARS + 200])[:MAX_CHARS]


def head_text(text: str) -> str:
    """The opening characters of a prepared text (``TfidfVectorizer`` preprocessor).

    Args:
        text: Prepared text.

    Returns:
        Its first ``HEAD_CHARS`` characters.
    """
    return text[:HEAD_CHARS]


def word_unigrams(text: str) -> list[str]:
    """Jieba words without stop words and punctuation (``TfidfVectorizer`` analyzer).

    Args:
        text: Prepared text.

    Returns:
        The words.
    """
    return [
        w
        for w in get_tokenizer().lcut(text)
        if w.strip() and not _PUNCT.match(w) and w not in _STOPWORDS
    ]


def word_ngrams(text: str) -> list[str]:
    """Word unigrams and bigrams from jieba, without stop words and punctuation.

    Used as the ``analyzer`` of a ``TfidfVectorizer`` (module-level so that fitted
    models pickle by reference).

    Args:
        text: Prepared text (see ``prepare_text``).

    Returns:
        The features.
    """
    words = word_unigrams(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]

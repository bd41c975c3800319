"""Read the resident's reply to "请问属于哪一类问题？" when they type instead of pressing.

"是噪音的问题", "环境保护那个", "噪音扰民", "就第二个…物业的事" name a category in words;
``match_category_answer`` maps such a reply to a leaf, preferring the candidates the
buttons offered.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._normalize import normalize_text
from ._taxonomy import load_taxonomy
from ._types import CategoryLeaf

__all__ = ["match_category_answer"]

#: A candidate the classifier prefers gets chosen when it holds this share of the
#: candidates' probability mass (the reply is about one of the offered categories).
_CANDIDATE_SHARE = 0.6


def _keyword_score(leaf: CategoryLeaf, text: str) -> int:
    """Characters of the leaf's name, parent and keywords found in ``text``."""
    words = {leaf.name, *leaf.keywords}
    if leaf.parent != leaf.gov_class:
        words.add(leaf.parent)
    return sum(len(w) for w in words if len(w) >= 2 and w.lower() in text)


def match_category_answer(text: str, candidates: Sequence[str] = ()) -> str | None:
    """The leaf a reply names, or None if it names none.

    Tried in order: a candidate's name; a leaf's name; the taxonomy keywords (a hit on
    an offered candidate wins over one elsewhere; "噪音" → 噪音扰民); a government class
    name with exactly one candidate in it ("环境保护的"); then the classifier (without
    the sentence encoder) restricted to the candidates, when one of them clearly leads.

    Args:
        text: The reply.
        candidates: Leaf names offered as buttons, best first.

    Returns:
        A leaf name of the taxonomy, or None.
    """
    taxonomy = load_taxonomy()
    t = normalize_text(text).strip().lower()
    if not t:
        return None
    offered = [c for c in candidates if c and taxonomy.get(c) is not None and c != "其他"]
    for name in offered:
        if name.lower() in t:
            return name
    exact = taxonomy.get(t)
    if exact is not None:
        return exact.name
    named = [leaf for leaf in taxonomy.leaves if leaf != taxonomy.other]  # 其他: no evidence
    for leaf in named:
        if len(leaf.name) >= 2 and leaf.name.lower() in t:
            return leaf.name
    scored = [(name, _keyword_score(taxonomy.get(name), t)) for name in offered]  # type: ignore[arg-type]
    best = max(scored, key=lambda kv: kv[1], default=None)
    if best is not None and best[1] > 0:
        return best[0]
    anywhere = max(named, key=lambda leaf: _keyword_score(leaf, t))
    if _keyword_score(anywhere, t) > 0:
        return anywhere.name
    by_class = [n for n in offered if taxonomy.get(n).gov_class in t]  # type: ignore[union-attr]
    if len(by_class) == 1:
        return by_class[0]
    return _classifier_choice(t, offered)


def _classifier_choice(text: str, offered: Sequence[str]) -> str | None:
    if len(offered) < 2:
        return None
    from ._classifier import get_model

    model = get_model()
    row = model.scores([text], encode=False)[0]
    names = [model.taxonomy.get(label) for label in model.labels]
    mass: dict[str, float] = {}
    for leaf, score in zip(names, row, strict=True):
        if leaf is not None and leaf.name in offered:
            mass[leaf.name] = mass.get(leaf.name, 0.0) + float(score)
    total = sum(mass.values())
    if not total:
        return None
    name = max(mass, key=lambda n: mass[n])
    return name if mass[name] / total >= _CANDIDATE_SHARE else None

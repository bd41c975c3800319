"""Rising topics (未诉先办): clusters of similar complaints that grow.

Descriptions are turned into character 2–3-gram TF-IDF vectors (no word segmentation, so
any wording of "井盖丢了" meets "井盖没了").  Within each category, two tickets are linked
when their cosine similarity reaches ``threshold``; a topic is a connected group of linked
tickets.  Its label is its medoid — the description most similar to all the others — and
its growth is the count in this period minus the count in the period before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from desk.report._data import ReportTicket
from tickets.privacy import mask_personal_data

__all__ = ["DEFAULT_THRESHOLD", "Topic", "rising_topics"]

DEFAULT_THRESHOLD = 0.45
LABEL_CHARS = 60


@dataclass(frozen=True)
class Topic:
    """A cluster of similar complaints."""

    label: str
    category: str
    size: int
    current: int
    previous: int
    ticket_ids: tuple[str, ...]

    @property
    def growth(self) -> int:
        return self.current - self.previous

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "category": self.category,
            "size": self.size,
            "current": self.current,
            "previous": self.previous,
            "growth": self.growth,
            "ticket_ids": list(self.ticket_ids),
        }


def _clusters(matrix: Any, threshold: float) -> tuple[int, np.ndarray, Any]:
    from scipy.sparse.csgraph import connected_components

    sim = matrix @ matrix.T
    linked = sim.multiply(sim >= threshold)
    n, labels = connected_components(linked, directed=False)
    return n, labels, sim


def rising_topics(
    tickets: Sequence[ReportTicket],
    start: float,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_size: int = 2,
    limit: int = 10,
) -> list[Topic]:
    """Topics among ``tickets`` (this period: ``requested_at >= start``) that grew, top first."""
    if len(tickets) < min_size:
        return []
    # scikit-learn loads here, not when the gateway imports the package for the console.
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), min_df=1, sublinear_tf=True)
    matrix = vectorizer.fit_transform([t.description for t in tickets]).tocsr()
    by_category: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(tickets):
        by_category[t.category].append(i)
    topics: list[Topic] = []
    for category, rows in by_category.items():
        if len(rows) < min_size:
            continue
        n, labels, sim = _clusters(matrix[rows], threshold)
        for label in range(n):
            members = np.flatnonzero(labels == label)
            if len(members) < min_size:
                continue
            sub = sim[members][:, members]
            medoid = rows[int(members[int(np.asarray(sub.sum(axis=1)).ravel().argmax())])]
            group = [tickets[rows[m]] for m in members]
            current = sum(t.requested_at >= start for t in group)
            topics.append(
                Topic(
                    label=mask_personal_data(tickets[medoid].description)[:LABEL_CHARS],
                    category=category,
                    size=len(group),
                    current=current,
                    previous=len(group) - current,
                    ticket_ids=tuple(t.service_request_id for t in group),
                )
            )
    rising = [t for t in topics if t.growth > 0]
    rising.sort(key=lambda t: (-t.growth, -t.current, t.label))
    return rising[:limit]

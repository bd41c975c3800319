"""Rasa component: Jiesu rule/gazetteer entities (location, time, phone, person ...)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline.timezone import hotline_now

from .._emergency import detect_emergency
from .._location import find_location
from .._normalize import normalize_text_aligned
from .._person import find_person_name
from .._phones import find_phones
from .._tickets import find_ticket_ids
from .._time import find_time

__all__ = ["ComplaintEntityExtractor", "extract_entities"]

logger = logging.getLogger(__name__)

ALL_ENTITIES = ("location", "time", "phone", "person", "ticket_id", "emergency")


def extract_entities(
    text: str, now: datetime | None = None, wanted: tuple[str, ...] = ALL_ENTITIES
) -> list[dict[str, Any]]:
    """Extract Rasa-style entity dicts with offsets into ``text``.

    Offsets stay valid for ``text`` because extraction runs on the length-preserving
    normalisation of it.

    Args:
        text: Message text.
        now: Reference time for time expressions (default: now in Beijing).
        wanted: Entity types to return.

    Returns:
        Entity dicts with ``entity``, ``value``, ``start``, ``end``, ``confidence``; the
        value is normalised (a dict for location/time/emergency, a string otherwise).
    """
    norm = normalize_text_aligned(text)
    if not norm.strip():
        return []
    entities: list[dict[str, Any]] = []

    def add(kind: str, start: int, end: int, value: Any) -> None:
        if kind in wanted:
            entities.append(
                {
                    "entity": kind,
                    "start": start,
                    "end": end,
                    "value": value,
                    "confidence_entity": 1.0,
                }
            )

    phones = find_phones(norm)
    for phone in phones:
        add("phone", phone.start, phone.end, phone.value)
    tickets = find_ticket_ids(norm)
    for ticket in tickets:
        add("ticket_id", ticket.start, ticket.end, ticket.value)
    location = find_location(norm)
    if location:
        add("location", location.start, location.end, _as_dict(location.location))
    masked = [(p.start, p.end) for p in phones] + [(t.start, t.end) for t in tickets]
    if location:
        masked.append((location.start, location.end))
    if "time" in wanted:
        mention = find_time(norm, now or hotline_now(), masked)
        if mention:
            add("time", mention.start, mention.end, _as_dict(mention))
    name = find_person_name(norm)
    if name:
        add("person", name.start, name.end, name.value)
    emergency = detect_emergency(norm) if "emergency" in wanted else None
    if emergency:
        start = norm.find(emergency.matched)
        add(
            "emergency",
            start,
            start + len(emergency.matched),
            {
                "kind": emergency.kind,
                "numbers": list(emergency.numbers),
                "matched": emergency.matched,
            },
        )
    entities.sort(key=lambda e: (e["start"], e["entity"]))
    return entities


def _as_dict(obj: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {k: v for k, v in asdict(obj).items() if k not in ("start", "end")}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class ComplaintEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds ``location``, ``time``, ``phone``, ``person``, ``ticket_id`` and ``emergency``.

    Config:
        entities: Entity types to extract (default: all six).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config: extract all entity types."""
        return {"entities": list(ALL_ENTITIES)}

    def __init__(self, config: dict[str, Any]) -> None:
        """Create the extractor.

        Args:
            config: Component config.
        """
        self._wanted = tuple(config.get("entities") or ALL_ENTITIES)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ComplaintEntityExtractor:
        """Create the component and warm up its resources (see ``GraphComponent.create``)."""
        extract_entities("我叫王小明，住朝阳区望京西园四区，昨天下午三点停水了，电话13800138000")
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data pass-through (the extractor needs no training)."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Add entities to each message.

        Args:
            messages: Messages to process.

        Returns:
            The messages with entities appended.
        """
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text or text.startswith("/"):
                continue
            try:
                found = extract_entities(text, wanted=self._wanted)
            except Exception:  # one bad message must not take the bot down
                logger.exception("entity extraction failed")
                continue
            found = self.add_extractor_name(found)
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

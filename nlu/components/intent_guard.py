"""Rasa component: the intent classifier's guess never overrides what the words say.

A bag-of-n-grams intent classifier trained on a few hundred examples guesses, and some of
its guesses used to decide the dialogue on their own: a typed address predicted as
``share_location`` (whose only example is the ``/share_location{…}`` payload) was refused as
"no valid location" forever, "楼道里的灯坏了" predicted as ``emergency`` got 110/119/120
advice, and a long complaint predicted as ``thank`` or ``cancel`` was never filed.  This
component runs last in the pipeline and applies the rules of :func:`guard_intent`:

* intents only a channel event can carry (shared location, contact or attachment, the end
  of a call, the survey trigger) are never predicted from typed or spoken text;
* ``emergency`` is set exactly when the NLU's emergency detector finds present danger
  (:func:`nlu.assess_emergency`), whatever the classifier said;
* small talk, ``cancel``, ``request_human`` and ``inquire_status`` need words that say so;
  a substantive message otherwise is a report (``report_problem``).

The intent that was replaced is kept in the parse output under ``intent_guard``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from .._guard import guard_intent

__all__ = ["GUARD", "IntentGuard"]

logger = logging.getLogger(__name__)

#: Parse-output key recording a replaced intent: ``{"from": name, "reason": why}``.
GUARD = "intent_guard"
_PAYLOAD = re.compile(r"^\s*/")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntentGuard(GraphComponent):
    """Corrects the predicted intent by the rules of :func:`nlu._guard.guard_intent`."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentGuard:
        return cls()

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> IntentGuard:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            intent = message.get(INTENT) or {}
            name = intent.get("name") if isinstance(intent, dict) else None
            if not isinstance(text, str) or not name or _PAYLOAD.match(text):
                continue
            try:
                verdict = guard_intent(str(name), text)
            except Exception:  # never fail the turn over the guard
                logger.exception("intent guard failed")
                continue
            if verdict is None:
                continue
            new_name, reason = verdict
            confidence = float(intent.get("confidence") or 0.0)
            message.set(INTENT, {"name": new_name, "confidence": max(confidence, 0.9)})
            ranking = [
                r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != new_name
            ]
            message.set(
                INTENT_RANKING_KEY,
                [{"name": new_name, "confidence": max(confidence, 0.9)}, *ranking],
            )
            message.set(GUARD, {"from": name, "reason": reason}, add_to_output=True)
        return messages

"""Rasa component: complaint category (taxonomy leaf) for the whole message."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from .._classifier import CategoryModel, get_model

__all__ = ["CATEGORY", "CategoryClassifier"]

logger = logging.getLogger(__name__)

#: Message attribute (and parse-result key) holding the category.
CATEGORY = "category"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CategoryClassifier(GraphComponent):
    """Writes ``category`` = {name, gov_class, service_code, confidence, ranking}.

    The model is the one ``nlu.classify_category`` uses (history model if configured,
    else the built-in one); it is loaded when the component is created, so Rasa start-up
    pays the cost rather than the first message.

    Config:
        model_path: Optional explicit model file (overrides ``JIESU_CATEGORY_MODEL``).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config: use the configured/built-in model."""
        return {"model_path": None}

    def __init__(self, model: CategoryModel) -> None:
        """Create the component.

        Args:
            model: The loaded category model.
        """
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CategoryClassifier:
        """Create the component and load the model (see ``GraphComponent.create``)."""
        path = config.get("model_path")
        # the Rasa server scores without the encoder: do not read its weights here
        return cls(get_model(Path(path) if path else None, prefetch_encoder=False))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CategoryClassifier:
        """Load the component at inference time (same as ``create``)."""
        return cls.create(config, model_storage, resource, execution_context)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data pass-through."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Classify each message.

        Args:
            messages: Messages to process.

        Returns:
            The messages with the ``category`` attribute set (also in the parse output).
        """
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip() or text.startswith("/"):
                continue
            try:
                # every turn, without the sentence encoder (cheap); the action server
                # runs the full model once, on the turn that classifies the complaint
                pred = self._model.predict(text, encode=False)
            except Exception:  # never fail the whole turn over the category
                logger.exception("category classification failed")
                continue
            message.set(
                CATEGORY,
                {
                    "name": pred.leaf,
                    "gov_class": pred.gov_class,
                    "service_code": pred.service_code,
                    "confidence": pred.confidence,
                    "low_confidence": pred.low_confidence,
                    "fused": pred.fused,
                    "ranking": [{"name": n, "confidence": c} for n, c in pred.top3],
                },
                add_to_output=True,
            )
        return messages

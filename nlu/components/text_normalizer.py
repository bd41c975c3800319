"""Rasa component: normalise message text before tokenisation.

Rasa keeps entity offsets relative to ``message.get("text")``. To keep offsets valid
for the text the resident actually typed, this component only applies
*length-preserving* changes (traditional→simplified one character at a time,
full-width→half-width, odd whitespace→space); it never deletes or inserts characters.
Messages starting with "/" (intent shortcuts) are left untouched.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from .._normalize import normalize_text_aligned

__all__ = ["TextNormalizer"]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class TextNormalizer(GraphComponent):
    """Length-preserving normalisation of the message text (place it first)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config: no options."""
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        """Create the component (see ``GraphComponent.create``)."""
        return cls()

    @staticmethod
    def _normalize(message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str) and text and not text.startswith("/"):
            message.set(TEXT, normalize_text_aligned(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise the training examples.

        Args:
            training_data: NLU training data.

        Returns:
            The same data, normalised in place.
        """
        for example in training_data.training_examples:
            self._normalize(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalise incoming messages.

        Args:
            messages: Messages to process.

        Returns:
            The same messages, normalised in place.
        """
        for message in messages:
            self._normalize(message)
        return messages

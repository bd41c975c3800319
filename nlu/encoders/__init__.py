"""Pretrained sentence encoders (local weights shipped in pinned packages).

``default_encoder()`` returns the process-wide encoder the category model uses
(USE multilingual v3); it loads its weights lazily, once, and is safe to share between
threads. Any encoder follows the ``SentenceEncoder`` protocol.
"""

from ._cache import MemoEncoder
from ._default import default_encoder, encoder_by_name
from ._protocol import EncoderError, EncoderInfo, SentenceEncoder
from ._use import MAX_ENCODE_CHARS, UseEncoder

__all__ = [
    "MAX_ENCODE_CHARS",
    "EncoderError",
    "EncoderInfo",
    "MemoEncoder",
    "SentenceEncoder",
    "UseEncoder",
    "default_encoder",
    "encoder_by_name",
]

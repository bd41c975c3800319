"""Jiesu Chinese NLU: normalisation, entity extraction, emergency and category detection.

All public names are re-exported here; the implementation lives in private modules.
Heavy resources (jieba dictionary, gazetteer, classifier, jionlp) load lazily on first
use and are cached thread-safely.
"""

from ._answers import AddressAnswer, AnswerKind, is_question, parse_address_answer
from ._category_answer import match_category_answer
from ._classifier import LOW_CONFIDENCE_THRESHOLD, classify_category
from ._emergency import EmergencyAssessment, EmergencyLevel, assess_emergency, detect_emergency
from ._location import extract_location
from ._normalize import normalize_text
from ._person import extract_person_name
from ._phones import extract_phones, normalize_phone
from ._request_type import (
    REQUEST_TYPES,
    RequestTypePrediction,
    classify_request_type,
    detect_request_type,
)
from ._taxonomy import Taxonomy, load_taxonomy
from ._tickets import extract_ticket_ids
from ._time import extract_time
from ._types import CategoryLeaf, CategoryPrediction, Emergency, Location, TimeMention

__all__ = [
    "LOW_CONFIDENCE_THRESHOLD",
    "REQUEST_TYPES",
    "AddressAnswer",
    "AnswerKind",
    "CategoryLeaf",
    "CategoryPrediction",
    "Emergency",
    "EmergencyAssessment",
    "EmergencyLevel",
    "Location",
    "RequestTypePrediction",
    "Taxonomy",
    "TimeMention",
    "assess_emergency",
    "classify_category",
    "classify_request_type",
    "detect_emergency",
    "detect_request_type",
    "extract_location",
    "extract_person_name",
    "extract_phones",
    "extract_ticket_ids",
    "extract_time",
    "load_taxonomy",
    "match_category_answer",
    "normalize_phone",
    "normalize_text",
    "is_question",
    "parse_address_answer",
]

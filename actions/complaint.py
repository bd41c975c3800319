"""The structured complaint: built from slots, read back, sent as Open311.

Pure functions only, so the read-back wording and the Open311 field mapping
are unit-tested without Rasa or a network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nlu import extract_location, load_taxonomy

__all__ = ["Complaint", "complaint_from_slots", "read_back", "to_open311_form", "COMPLAINT_SLOTS"]

COMPLAINT_SLOTS = (
    "complaint_id",
    "complaint_description",
    "complaint_category",
    "complaint_location",
    "contact_phone",
    "anonymous",
    "confirmation",
    "complaint_type",
    "category_candidates",
    "complaint_time",
    "complaint_time_iso",
    "complaint_lat",
    "complaint_long",
    "contact_name",
    "urgency",
    "handoff_requested",
    "attachments",
    "pending_correction",
    "cancel_requested",
    "cancel_check",
    "ask_streak",
    "needs_review",
    "resident_remarks",
    "duplicate_candidate",
    "duplicate_check",
)


@dataclass(frozen=True)
class Complaint:
    """Everything the resident told us, ready for the ticket backend."""

    description: str
    category: str
    request_type: str = "投诉"
    location: str | None = None
    lat: float | None = None
    long: float | None = None
    time_text: str | None = None
    time_iso: str | None = None
    phone: str | None = None
    name: str | None = None
    anonymous: bool = False
    urgency: str = "normal"
    handoff: bool = False
    channel: str = "web"
    sender_id: str = ""
    complaint_id: str = ""
    attachments: tuple[str, ...] = field(default_factory=tuple)
    needs_callback: bool = False
    # Fields whose question missed twice (kept as said): staff check them.
    needs_review: tuple[str, ...] = field(default_factory=tuple)
    # Questions and remarks the resident made during the intake, verbatim.
    remarks: tuple[str, ...] = field(default_factory=tuple)


def _as_bool(value: Any) -> bool:
    return value in (True, "true", "True", "yes", "1", 1)


def complaint_from_slots(
    slots: dict[str, Any], sender_id: str, channel: str, needs_callback: bool = False
) -> Complaint:
    """Build a :class:`Complaint` from the tracker's slots."""
    category = slots.get("complaint_category") or "其他"
    if load_taxonomy().get(category) is None:
        category = "其他"
    return Complaint(
        description=str(slots.get("complaint_description") or "（未描述）"),
        category=category,
        request_type=str(slots.get("complaint_type") or "投诉"),
        location=slots.get("complaint_location") or None,
        lat=slots.get("complaint_lat"),
        long=slots.get("complaint_long"),
        time_text=slots.get("complaint_time") or None,
        time_iso=slots.get("complaint_time_iso") or None,
        phone=slots.get("contact_phone") or None,
        name=slots.get("contact_name") or None,
        anonymous=_as_bool(slots.get("anonymous")),
        urgency=str(slots.get("urgency") or "normal"),
        handoff=_as_bool(slots.get("handoff_requested")),
        channel=channel,
        sender_id=sender_id,
        complaint_id=str(slots.get("complaint_id") or ""),
        attachments=tuple(slots.get("attachments") or ()),
        needs_callback=needs_callback,
        needs_review=tuple(slots.get("needs_review") or ()),
        remarks=tuple(slots.get("resident_remarks") or ()),
    )


def _category_label(name: str) -> str:
    leaf = load_taxonomy().get(name)
    if leaf is None or leaf.parent == leaf.name:
        return name
    return f"{leaf.parent} › {leaf.name}"


def read_back(c: Complaint) -> str:
    """The read-back the resident confirms or corrects."""
    lines = ["请核对您的诉求："]
    lines.append(f"类型：{c.request_type}")
    lines.append(f"类别：{_category_label(c.category)}")
    if c.location:
        lines.append(f"地点：{c.location}")
    elif c.lat is not None and c.long is not None:
        lines.append(f"地点：定位 {c.lat:.5f}, {c.long:.5f}")
    if c.time_text:
        lines.append(f"时间：{c.time_text}")
    lines.append(f"问题描述：{c.description}")
    lines.append(f"联系电话：{c.phone or '未留'}")
    if c.name:
        lines.append(f"姓名：{c.name}")
    lines.append(f"个人信息保密：{'是' if c.anonymous else '否'}")
    if c.attachments:
        lines.append(f"附件：{len(c.attachments)}个")
    if c.urgency == "urgent":
        lines.append("紧急程度：紧急")
    lines.append(
        "信息无误请回复“确认”；需要修改请直接说，比如“地址不对，是……”；不需要了请说“取消”。"
    )
    return "\n".join(lines)


def _split_name(name: str | None) -> tuple[str, str]:
    """Chinese names: surname first.  Returns (first_name, last_name)."""
    if not name:
        return "", ""
    name = name.strip()
    if len(name) <= 1 or name.endswith(("先生", "女士")):
        return "", name
    return name[1:], name[0]


_ADDRESS_PARTS = (
    "district",
    "street",
    "community",
    "road",
    "house_number",
    "building",
    "unit",
    "room",
)


def address_attributes(address: str | None) -> dict[str, str]:
    """The address's parts (district, street, …) beside the resident's own words."""
    if not address or address.startswith("（"):
        return {}
    loc = extract_location(address)
    if loc is None:
        return {}
    return {f"address_{p}": str(getattr(loc, p)) for p in _ADDRESS_PARTS if getattr(loc, p, None)}


def to_open311_form(c: Complaint) -> dict[str, str]:
    """Open311 GeoReport v2 ``POST requests.json`` form fields."""
    leaf = load_taxonomy().get(c.category) or load_taxonomy().get("其他")
    assert leaf is not None, "taxonomy must have 其他"
    first, last = _split_name(c.name)
    form: dict[str, str] = {
        "service_code": leaf.service_code,
        "description": c.description,
    }
    if c.location:
        form["address_string"] = c.location
    if c.lat is not None and c.long is not None:
        form["lat"] = f"{c.lat:.6f}"
        form["long"] = f"{c.long:.6f}"
    if not c.location and c.lat is None:
        form["address_string"] = "（未提供，需回访核实）"
    if c.phone:
        form["phone"] = c.phone
    if first:
        form["first_name"] = first
    if last:
        form["last_name"] = last
    if c.attachments:
        form["media_url"] = c.attachments[0]
    attributes = {
        "request_type": c.request_type,
        "category": c.category,
        "gov_class": leaf.gov_class,
        "department": leaf.department,
        "time": c.time_text or "",
        "time_iso": c.time_iso or "",
        "anonymous": "true" if c.anonymous else "false",
        "urgency": c.urgency,
        "handoff": "true" if c.handoff else "false",
        "needs_callback": "true" if c.needs_callback else "false",
        "channel": c.channel,
        "conversation_id": c.sender_id,
        "attachments": "\n".join(c.attachments),
        "needs_review": ",".join(c.needs_review),
        "remarks": "\n".join(c.remarks),
        **address_attributes(c.location),
    }
    for key, value in attributes.items():
        form[f"attribute[{key}]"] = value
    return form

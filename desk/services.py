"""The desk's Open311 service list, derived from the NLU category taxonomy.

One source of truth: every taxonomy leaf is a service, so a category the
assistant predicts always has a ``service_code`` the desk accepts.
"""

from __future__ import annotations

from typing import Any

from nlu import load_taxonomy

__all__ = ["open311_services"]


def open311_services() -> list[dict[str, Any]]:
    """Open311 ``services.json`` entries, one per taxonomy leaf."""
    return [
        {
            "service_code": leaf.service_code,
            "service_name": leaf.name,
            "description": f"{leaf.parent} › {leaf.name}",
            "metadata": False,
            "type": "realtime",
            "keywords": leaf.gov_class,
            "group": leaf.parent,
            "agency": leaf.department,
        }
        for leaf in load_taxonomy().leaves
    ]

"""Run Rasa's own command line with one start-up fix for turn latency.

Two start-up fixes for turn latency, both found with py-spy on a running stack:

- Rasa 3.6 checks every action-server response with ``jsonschema.validate``,
  which re-validates the *schema itself* on every call: more than half of the
  server's CPU per turn.  We validate against a validator built once from the
  same schema: same checks, same errors.
- The SQLite tracker store commits with SQLite's defaults (rollback journal,
  fsync on every commit): about a third of the remaining time.  SQLite
  connections get WAL and ``synchronous=NORMAL``, as our own stores do
  (``tickets/db.py``); a process crash loses nothing committed.

And one for model load: the intent classifier is stored with skops, whose
import walks every loaded module for each trusted type name.  Imported after
TensorFlow, that took 8–20 s of the model load; imported first, about 2 s.

Usage: ``python -m bot.rasa_server run --enable-api ...`` (any ``rasa`` arguments).
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["install_cached_action_result_validator", "install_sqlite_pragmas", "main"]


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    return validator_for(spec)(spec)


def install_cached_action_result_validator() -> None:
    """Replace ``RemoteAction._validate_action_result`` with a pre-built validator."""
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            _validator().validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def install_sqlite_pragmas() -> None:
    """WAL and ``synchronous=NORMAL`` on every SQLite connection this process opens."""
    import sqlite3

    import sqlalchemy as sa
    from sqlalchemy.engine import Engine

    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    if not sa.event.contains(Engine, "connect", _pragmas):
        sa.event.listen(Engine, "connect", _pragmas)


def main() -> None:
    import skops.io  # noqa: F401 — before Rasa pulls in TensorFlow (see module docstring)

    install_cached_action_result_validator()
    install_sqlite_pragmas()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()

"""``python -m actions``: rasa_sdk's action server with masked log records.

The same command line as ``python -m rasa_sdk`` (``--actions actions --port …``); every
log record is masked first (``tickets.log_privacy``), so no traceback of a failed action
writes a resident's phone or ID number to ``actions.log``.
"""

from __future__ import annotations

from tickets.log_privacy import install_masked_log_records


def main() -> None:
    install_masked_log_records()
    from rasa_sdk.__main__ import main as sdk_main

    sdk_main()


if __name__ == "__main__":
    main()

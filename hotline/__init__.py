"""What every process of the stack shares: configuration, the hotline's time zone, channels.

This is the bottom layer: the gateway (``bot``), the action server (``actions``), the NLU,
speech, tickets and desk packages may import it; it imports none of them (import-linter
contract in ``pyproject.toml``).
"""

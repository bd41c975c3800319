"""Rasa custom actions of the Jiesu assistant (thin; logic in plain modules)."""

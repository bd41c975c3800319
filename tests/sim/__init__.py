"""Simulated residents driving the real stack through ``POST /api/chat``.

``openings`` says what a resident reports first, ``residents`` how they go on
answering (behaviours and writing styles), ``driver`` runs conversations on a
stack, ``invariants`` judges the transcript and the desk ticket.
"""

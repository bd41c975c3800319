"""Rasa 3.6 graph components wrapping the Jiesu NLU library.

Import the component modules (``nlu.components.text_normalizer`` ...) from the Rasa
``config.yml``; this package itself imports nothing from Rasa.
"""

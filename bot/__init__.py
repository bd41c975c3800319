"""The gateway process and everything that runs around it.

- ``bot.gateway``: the aiohttp application (wiring, health, the Rasa client, log masking);
- ``bot.channels``: web, Telegram and phone channels, and what they share (``turns``);
- ``bot.survey``: the satisfaction callback's gateway side (routes, relays, scheduler);
- ``bot.rasa_runtime``: code loaded inside the Rasa server process;
- ``bot.cli``: the ``jiesu`` command, the process supervisor and the model cache.
"""

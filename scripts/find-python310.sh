#!/usr/bin/env bash
# Print the path of a working Python 3.10 interpreter (Rasa 3.6 needs <3.11).
# Order: a plain python3.10 that actually runs, then any pyenv 3.10.x, then uv's.
set -u
try() { "$@" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; }
if command -v python3.10 >/dev/null 2>&1 && try python3.10; then
  python3.10 -c 'import sys; print(sys.executable)'; exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | sort -rV); do
    p="$(pyenv prefix "$v" 2>/dev/null)/bin/python3.10"
    if [ -x "$p" ] && try "$p"; then echo "$p"; exit 0; fi
  done
fi
for p in /usr/bin/python3.10 /usr/local/bin/python3.10; do
  if [ -x "$p" ] && try "$p"; then echo "$p"; exit 0; fi
done
echo "find-python310: no Python 3.10 found (Rasa 3.6 needs Python 3.10). Install it, e.g. 'pyenv install 3.10'." >&2
exit 1

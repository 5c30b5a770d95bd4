#!/usr/bin/env bash
# Install everything and start the server under gunicorn on the embedded default (SQLite + Whoosh in ./var),
# loading the sample knowledge base when the store is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KB_DATA_DIR="${KB_DATA_DIR:-./var}"
export KB_LOAD_SAMPLE="${KB_LOAD_SAMPLE:-true}"
export PORT="${PORT:-8000}"
exec .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app

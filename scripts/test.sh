#!/usr/bin/env bash
# The whole suite: lint and types (scripts/lint.sh), data validation, unit, action, protocol, model and end-to-end tests; the 15 slowest are listed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
scripts/lint.sh
.venv/bin/python -m rasa data validate --domain domain --data data/nlu data/rules data/stories --config config.yml
.venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"

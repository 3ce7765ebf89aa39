#!/usr/bin/env bash
# Lint, format check and type check; what each covers is set in pyproject.toml ([tool.ruff*], [tool.mypy]).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy --no-error-summary

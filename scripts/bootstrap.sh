#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the locked dependencies, only when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.10 "$(pyenv root 2>/dev/null || echo ~/.pyenv)"/versions/3.10*/bin/python; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

want=$(cat requirements.lock pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
stamp=.venv/.bianmin-installed
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  python=$(find_python) || {
    echo "bianmin: Python 3.10 is needed (Rasa 3.6 runs on 3.8-3.10): install it with 'pyenv install 3.10.13' or 'sudo apt-get install python3.10 python3.10-venv'." >&2
    exit 1
  }
  echo "Creating .venv with $python ..."
  "$python" -m venv .venv
fi
echo "Installing locked dependencies (first time: several minutes, about 3 GB) ..."
.venv/bin/pip install -q --upgrade "pip<25"
.venv/bin/pip install -q -r requirements.lock
# compat mode: a .pth file puts the checkout on sys.path, so packages added later import too
.venv/bin/pip install -q --no-deps -e . --config-settings editable_mode=compat
echo "$want" > "$stamp"

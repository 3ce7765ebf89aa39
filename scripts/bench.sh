#!/usr/bin/env bash
# Every benchmark in bench/, each with its baseline measured in the same run; reports land in bench/*/REPORT.md.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in faq routing wechat nlu stack; do
  if [ -f "bench/$bench/__main__.py" ]; then
    echo "== bench.$bench"
    .venv/bin/python -m "bench.$bench"
  fi
done

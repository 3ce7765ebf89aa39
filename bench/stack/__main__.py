"""Whole-assistant benchmark: training time, start-to-ready time, REST turn latency, memory.

`python -m bench.stack` trains the model from scratch into a temporary folder (timed), starts the real
stack on its own ports, sends bounded loops of turns over the REST channel, and writes
bench/stack/REPORT.md. The baseline, in the same run, is a turn Rasa answers from a static response
(greet → utter_greet, no action server involved); the measured turns run custom actions (knowledge-base
retrieval, the complaint form with routing).
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List

from bot.settings import ROOT, load
from stack.run import Stack, isolated_settings
from stack.training import ensure_model

REPORT = ROOT / "bench" / "stack" / "REPORT.md"
TURNS = 200
SCENARIOS: Dict[str, List[str]] = {
    "baseline: greet (static response)": ["你好"],
    "FAQ answer (KB retrieval action)": ["暖气不热怎么办", "什么时候开始供暖", "预付卡商家跑路了怎么退钱"],
    "complaint start (form + routing)": ["我要投诉小区门口的烧烤摊油烟太大"],
}


def percentile(values: List[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def rest_turn(rasa_url: str, sender: str, text: str, token: str = "") -> float:
    """One REST turn; returns its latency in milliseconds."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token or load().rasa_token}"}
    request = urllib.request.Request(f"{rasa_url}/webhooks/rest/webhook", data=body, headers=headers)
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    pids += [int(child) for child in children]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def main() -> int:
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-bench-"))
    settings = isolated_settings(load(), var_dir, port_offset=20000, redis_db=13)
    fresh_models = dataclasses.replace(settings, models_dir=var_dir / "models")
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # no reuse of Rasa's training cache: a real from-scratch figure
    start = time.perf_counter()
    ensure_model(fresh_models, quiet=True)
    training_s = time.perf_counter() - start

    stack = Stack(dataclasses.replace(settings, models_dir=fresh_models.models_dir))
    start = time.perf_counter()
    stack.start(timeout=300)
    ready_s = time.perf_counter() - start
    try:
        latencies: Dict[str, List[float]] = {}
        for name, texts in SCENARIOS.items():
            rest_turn(settings.rasa_url, "warmup", texts[0])
            latencies[name] = [
                rest_turn(settings.rasa_url, f"bench-{uuid.uuid4().hex[:8]}", texts[i % len(texts)])
                for i in range(TURNS)
            ]
        memory = {service.name: rss_mb(service.process.pid) for service in stack.services}
    finally:
        stack.stop()

    lines = [
        "# Whole-assistant benchmark",
        "",
        f"Machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores. "
        f"Command: `.venv/bin/python -m bench.stack`. {TURNS} sequential REST turns per scenario, each from a "
        "new conversation.",
        "",
        f"- Training from scratch: {training_s:.0f} s",
        f"- Start to ready (all services, model loaded): {ready_s:.1f} s",
        "",
        "| scenario | p50 ms | p99 ms | mean ms |",
        "| --- | --- | --- | --- |",
    ]
    for name, values in latencies.items():
        lines.append(
            f"| {name} | {percentile(values, 0.5):.1f} | {percentile(values, 0.99):.1f} | {statistics.mean(values):.1f} |"
        )
    lines += ["", "| process | RSS MB |", "| --- | --- |"]
    lines += [f"| {name} | {mb:.0f} |" for name, mb in memory.items()]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

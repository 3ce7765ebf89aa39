"""`bianmin classify`: JSON lines in, one JSON line out per input, errors reported per line."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

from bot.routing.classify_cli import main
from bot.settings import ROOT, load

FIELDS = {"id", "category", "confidence", "subcategory", "department", "alternatives"}


def run(router, lines):
    out = io.StringIO()
    assert main(io.StringIO("\n".join(lines) + "\n"), out, router) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_routes_each_line_and_reports_malformed_ones(router):
    long_text = ("尊敬的领导：我家住在某小区，今年冬天暖气一直不热，室温只有十五度。" + "家里老人孩子冻得感冒，" * 500)[
        :5000
    ]
    assert len(long_text) == 5000
    lines = [
        json.dumps({"id": "1", "title": "暖气不热", "text": "家里才十五度"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": 2, "title": "欠薪", "text": "老板拖欠我们三个月工资"}, ensure_ascii=False),
        json.dumps({"id": "3"}),
        json.dumps(["a list"]),
        "",
        json.dumps({"id": "4", "text": long_text}, ensure_ascii=False),
        json.dumps({"id": "5", "text": ""}),
        json.dumps({"id": "6", "text": "公交车太少", "title": 7}),
    ]
    results = run(router, lines)
    assert len(results) == 8  # the blank line is skipped, every other line answers
    first, bad_json, second, no_text, not_object, long_one, empty, bad_title = results
    assert set(first) == FIELDS and first["id"] == "1"
    assert (first["category"], first["subcategory"]) == ("城乡建设", "供暖")
    assert first["department"] == "市城市管理委员会（供热办）"
    assert 0 <= first["confidence"] <= 1
    assert bad_json["id"] is None and "JSON" in bad_json["error"]
    assert second["id"] == 2 and second["category"] == "劳动和社会保障"
    assert no_text == {"id": "3", "error": 'missing string field "text"'}
    assert not_object["id"] is None and not_object["error"]
    assert long_one["id"] == "4" and long_one["category"] == "城乡建设"
    assert len(first["alternatives"]) == 2 and first["category"] not in first["alternatives"]
    assert empty["category"] is None and empty["confidence"] == 0.0 and empty["alternatives"] == []
    assert bad_title["id"] == "6" and "title" in bad_title["error"]


def test_many_lines_come_back_in_order(router):
    """Batches of long lines keep their order and all get a category (speed: bench/routing)."""
    texts = ["小区门口的路灯坏了一个月", "工地夜间施工太吵", "公司不给交社保", "出租车拒载还绕路"]
    lines = [json.dumps({"id": i, "text": texts[i % 4] * 20}, ensure_ascii=False) for i in range(600)]
    results = run(router, lines)
    assert [r["id"] for r in results] == list(range(600))
    assert all(r["category"] for r in results)


def test_bianmin_classify_command(tmp_path, seeded_cache):
    # a fresh var dir holding the trained model, with the warm embedding cache of the project's texts
    shutil.copytree(seeded_cache, tmp_path / "routing")
    env = dict(os.environ, BIANMIN_VAR_DIR=str(tmp_path), BIANMIN_EMBEDDINGS_CACHE=str(load().embeddings_cache))
    stdin = "\n".join(
        [
            json.dumps({"id": "a", "title": "孩子入学", "text": "户口在学区内，小学却说没有学位"}, ensure_ascii=False),
            "oops",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-m", "stack.cli", "classify"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first, second = [json.loads(line) for line in done.stdout.splitlines()]
    assert first["id"] == "a" and first["category"] == "教育文体"
    assert "教育" in first["department"]
    assert second == {"id": None, "error": second["error"]} and second["error"]
    assert "入学" in done.stdout  # ensure_ascii=False: Chinese is written as is
    assert list((tmp_path / "routing").glob("model-*.pkl"))  # the model was cached under var_dir

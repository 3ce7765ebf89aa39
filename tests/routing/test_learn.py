"""`bianmin routing learn`: a model learned from history changes the routes of a running Router, keeps the
second level and the department inside the learned top level, and goes away with its file."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from bot.routing import Router, department_for
from bot.routing import router as router_module
from bot.routing.learn_cli import HISTORY_FILE
from bot.routing.learn_cli import main as learn
from bot.routing.learned import LEARNED_FILE
from bot.routing.taxonomy import DATA_DIR

COURIER = ("快递投诉", "韵达快递员不送货上门，还要我加钱，打客服也不处理")


@pytest.fixture
def instant_reload(monkeypatch):
    monkeypatch.setattr(router_module, "RELOAD_SECONDS", 0.0)


def test_the_zero_shot_router_is_the_default_without_history(router):
    assert router.learned is None
    assert router.classify(COURIER[1], title=COURIER[0]).category == "交通运输"  # the examples' convention


def test_a_learned_model_routes_as_the_hotline_does(learned_cache):
    route = Router(DATA_DIR, learned_cache).classify(COURIER[1], title=COURIER[0])
    assert route.category == "商贸旅游"  # the hotline's history files couriers there
    assert route.subcategory and route.department == department_for("商贸旅游", route.subcategory)
    assert 0.0 < route.confidence <= 1.0
    heating = Router(DATA_DIR, learned_cache).classify("家里暖气一点都不热，室温才十四度")
    assert (heating.category, heating.subcategory) == ("城乡建设", "供暖")  # second level chosen inside the top level


def test_a_running_router_takes_up_a_new_model_and_drops_a_deleted_one(learned_cache, seeded_cache, instant_reload):
    running = Router(DATA_DIR, seeded_cache)
    assert running.classify(COURIER[1], title=COURIER[0]).category == "交通运输"
    shutil.copy(learned_cache / LEARNED_FILE, seeded_cache / LEARNED_FILE)
    assert running.classify(COURIER[1], title=COURIER[0]).category == "商贸旅游"  # no restart
    (seeded_cache / LEARNED_FILE).unlink()
    assert running.classify(COURIER[1], title=COURIER[0]).category == "交通运输"


def test_an_unreadable_learned_model_is_ignored(seeded_cache, instant_reload, caplog):
    (seeded_cache / LEARNED_FILE).write_bytes(b"not a pickle")
    running = Router(DATA_DIR, seeded_cache)
    assert running.learned is None and running.classify("工地夜间施工太吵").category == "环境保护"
    assert "unreadable learned model" in caplog.text


def test_learn_reports_rows_and_keeps_the_history_for_the_next_learn(learned_cache, tmp_path):
    kept = [json.loads(line) for line in (learned_cache / HISTORY_FILE).read_text(encoding="utf-8").splitlines()]
    assert len(kept) == 70 and {r["source"] for r in kept} == {"history"}
    folder = tmp_path / "routing"
    shutil.copytree(learned_cache, folder)
    (folder / LEARNED_FILE).unlink()
    out = io.StringIO()
    assert learn([], folder, out=out, err=io.StringIO()) == 0  # no --history: the kept rows
    assert "using the 70 rows kept from the last import" in out.getvalue()
    assert "learned from 70 history, 3" in out.getvalue() and (folder / LEARNED_FILE).is_file()


def test_learn_without_rows_or_with_a_bad_file_says_why(tmp_path):
    err = io.StringIO()
    assert learn([], tmp_path, out=io.StringIO(), err=err) == 1
    assert "no rows to learn from" in err.getvalue()
    bad = tmp_path / "export.csv"
    bad.write_text("标题,正文\n暖气,不热\n", encoding="utf-8")
    err = io.StringIO()
    assert learn(["--history", str(bad)], tmp_path, out=io.StringIO(), err=err) == 1
    assert "no text column 内容 or text" in err.getvalue() and not (tmp_path / LEARNED_FILE).exists()


def test_the_confidence_map_lowers_the_best_probability_and_keeps_the_ranking():
    import numpy as np
    from sklearn.isotonic import IsotonicRegression

    from bot.routing.learned import LearnedModel

    model = LearnedModel.__new__(LearnedModel)  # only the calibration is exercised
    model.confidence_map = IsotonicRegression(out_of_bounds="clip").fit([0.5, 0.9, 1.0], [0.3, 0.7, 0.95])
    calibrated = model._calibrated(np.array([[0.9, 0.06, 0.04], [0.5, 0.45, 0.05]]))
    assert np.allclose(calibrated.sum(axis=1), 1.0) and list(calibrated.argmax(axis=1)) == [0, 0]
    assert np.isclose(calibrated[0, 0], 0.7) and np.isclose(calibrated[0, 1] / calibrated[0, 2], 1.5)
    assert calibrated[1, 0] >= calibrated[1, 1]  # mapped to 0.3, raised to stay the best

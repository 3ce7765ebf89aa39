"""Routing of complaints: categories, departments from the editable table, confidence, the model cache."""

from __future__ import annotations

import copy
import shutil

import numpy as np
import pytest

from bot.routing import CATEGORIES, Router, department_for
from bot.routing.model import RouteModel
from bot.routing.taxonomy import DATA_DIR, RoutingDataError, Taxonomy

OBVIOUS = [
    ("家里暖气一点都不热，室温才十四度，供热公司也不来人", "城乡建设", "供暖"),
    ("旁边工地每天半夜两三点还在施工，吵得根本睡不着", "环境保护", "施工噪音"),
    ("我在建筑工地干了半年活，包工头拖欠工资不给", "劳动和社会保障", "欠薪"),
    ("孩子今年九月上小学，户口在这个学区，学校却说没有学位不让入学", "教育文体", "入学招生"),
    ("希望增开一条公交线路，我们小区到地铁站没有公交车", "交通运输", "公交"),
    ("小区门口天天乱停车，交警也不来管，早上堵得出不去", "政法", "交通秩序"),
    ("我家是低保户，今年低保突然被取消了，生活很困难", "民政", "低保救助"),
    ("在超市买到过期的牛奶，孩子喝了拉肚子", "卫生计生", "食品安全"),
]


@pytest.mark.parametrize("text,category,subcategory", OBVIOUS)
def test_obvious_complaints_are_routed_right(router, text, category, subcategory):
    route = router.classify(text)
    assert (route.category, route.subcategory) == (category, subcategory)
    assert route.department == department_for(category, subcategory)


def test_confidence_is_a_probability_and_higher_for_clear_text(router):
    clear = router.classify("暖气不热，家里太冷了")
    vague = router.classify("你好，我想反映一个情况，希望领导重视一下")
    for route in (clear, vague):
        assert 0.0 <= route.confidence <= 1.0
        assert route.category in CATEGORIES
    assert clear.confidence > 0.9 > vague.confidence


def test_title_helps_a_long_letter(router):
    letter = "尊敬的领导您好！" + "我们多次反映，希望相关部门能够重视，尽快解决，谢谢。" * 40
    route = router.classify(letter, title="小区附近工地夜间施工噪音扰民")
    assert route.category == "环境保护"


def test_a_route_names_the_runner_up_categories(router):
    route = router.classify("小区门口的公交站台被拆了，下雨天等车没地方躲")
    assert len(route.alternatives) == 2 and route.category not in route.alternatives
    assert set(route.alternatives) <= set(CATEGORIES)


@pytest.mark.parametrize("text", ["", "   ", "！！！？？", "\n\t"])
def test_text_without_content_has_no_category(router, text):
    route = router.classify(text)
    assert route.category is None and route.subcategory is None
    assert route.confidence == 0.0
    assert route.department  # the fallback desk still receives it


def test_department_table_covers_every_second_level_category():
    taxonomy = Taxonomy.load()
    fallback = department_for(None)
    for name in taxonomy.labels:
        category, subcategory = name.split("/")
        assert category in CATEGORIES
        assert department_for(category, subcategory) != fallback, name
    assert department_for("城乡建设", "供暖") == "市城市管理委员会（供热办）"
    assert department_for("城乡建设", "no-such-subcategory") == department_for("城乡建设")


def test_editing_the_department_table_changes_the_department(tmp_path, seeded_cache):
    data = tmp_path / "routing"
    shutil.copytree(DATA_DIR, data)
    router = Router(data, seeded_cache)
    assert router.classify("暖气不热").department == "市城市管理委员会（供热办）"

    table = data / "departments.yml"
    table.write_text(
        table.read_text(encoding="utf-8").replace("市城市管理委员会（供热办）", "河西区供热服务中心"), encoding="utf-8"
    )
    assert router.classify("暖气不热").department == "河西区供热服务中心"  # no restart, no retraining
    assert Router(data, seeded_cache).department_for("城乡建设", "供暖") == "河西区供热服务中心"


def test_a_cached_model_is_loaded_and_a_broken_one_is_rebuilt(router, seeded_cache, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained although a cached model was there")

    with monkeypatch.context() as patched:
        patched.setattr(RouteModel, "__init__", no_training)
        assert Router(DATA_DIR, seeded_cache).classify("暖气不热") == router.classify("暖气不热")

    for model in seeded_cache.glob("model-*.pkl"):
        model.write_bytes(b"not a pickle")
    assert Router(DATA_DIR, seeded_cache).classify("暖气不热").subcategory == "供暖"
    assert len(list(seeded_cache.glob("model-*.pkl"))) == 1  # the rebuilt model replaced the broken files


def test_changed_examples_retrain_and_replace_the_cached_model(tmp_path, seeded_cache):
    data = tmp_path / "routing"
    shutil.copytree(DATA_DIR, data)
    old = set(seeded_cache.glob("model-*.pkl"))
    with (data / "examples" / "keji.yml").open("a", encoding="utf-8") as handle:
        handle.write("    - 手机卡突然停机了，营业厅说是系统问题\n")
    Router(data, seeded_cache)
    (new,) = seeded_cache.glob("model-*.pkl")  # retrained, and the stale models were removed
    assert new not in old


@pytest.mark.parametrize(
    "title,text,category",
    [
        ("人才购房补贴迟迟未发放", "我通过人才新政落户，提交了购房补贴申请，审核通过几个月了还没到账", "城乡建设"),
        ("种粮补贴没有发到手", "我家承包了三十亩田种水稻，今年的农业补贴一直没有发放", "农村农业"),
    ],
)
def test_subsidies_go_to_the_department_of_their_kind(router, title, text, category):
    assert router.classify(text, title=title).category == category


def test_the_embedding_classifier_is_mixed_in(router, words_router):
    """The same text gets another confidence from words alone: the meaning opinion takes part."""
    words_only = words_router
    text = "晚上黑灯瞎火的，小区里一盏路灯都不亮"
    with_meaning, by_words = router.classify(text), words_only.classify(text)
    assert router.model.meaning is not None and words_only.model.meaning is None
    assert with_meaning.category == by_words.category == "城乡建设"
    assert abs(with_meaning.confidence - by_words.confidence) > 0.01


def test_without_the_embedding_engine_routing_uses_words(seeded_cache, monkeypatch):
    from bot import embeddings

    def broken(*args, **kwargs):
        raise OSError("engine not built for this CPU")

    monkeypatch.setattr(embeddings, "Embedder", broken)
    monkeypatch.setattr(embeddings, "_shared", None)
    router = Router(DATA_DIR, seeded_cache)
    assert router.embedder is None and router.model.meaning is None
    assert router.classify("工地夜间施工太吵").category == "环境保护"


def test_category_shares_are_read_normalised_and_checked(tmp_path):
    data = tmp_path / "routing"
    shutil.copytree(DATA_DIR, data)
    shares = Taxonomy.load(data).shares
    assert set(shares) == set(CATEGORIES) and abs(sum(shares.values()) - 1) < 1e-9
    assert shares["城乡建设"] > shares["党务政务"]  # real messages are mostly about the city

    (data / "shares.yml").unlink()
    assert len(set(Taxonomy.load(data).shares.values())) == 1  # without the file: equal shares
    for bad in ("城乡建设: 0\n", "城乡建设: many\n", "不存在的分类: 3\n", "- 城乡建设\n"):
        (data / "shares.yml").write_text(bad, encoding="utf-8")
        with pytest.raises(RoutingDataError, match="shares.yml"):
            Taxonomy.load(data)


def test_category_shares_weigh_the_decision(router):
    text = "小区旁边的工厂排放废水，河里的鱼都死了"
    route = router.classify(text)
    favoured = copy.deepcopy(router.model)  # the same fitted model, as if 党务政务 were every message
    favoured.share_weights = np.array([1.0 if c == "党务政务" else 1e-30 for c in favoured.categories])
    category, _, _, _ = favoured.predict([text], embedder=router.embedder)[0]
    assert route.category == "环境保护" and category == "党务政务"


def test_the_words_of_a_text_are_cut_once_and_handed_out_as_fresh_lists():
    from bot.routing import model

    text = "小区楼下烧烤店油烟太大，晚上还很吵"
    first = model.words(text)
    first.append("changed by the caller")
    hits = model._words.cache_info().hits
    assert model.words(text) == first[:-1] and model._words.cache_info().hits == hits + 1

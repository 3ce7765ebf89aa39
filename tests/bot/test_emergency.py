"""Emergencies are recognised deterministically, before anything else."""

import pytest

from bot.emergency import detect, mentioned


@pytest.mark.parametrize(
    "text, kind",
    [
        ("楼下着火了", "fire"),
        ("快来人啊，厨房烧起来了", "fire"),
        ("家里闻到很浓的煤气味", "gas"),
        ("燃气泄漏了怎么办", "gas"),
        ("楼道里有天然气味道", "gas"),
        ("路口发生车祸了", "traffic"),
        ("我被车撞了", "traffic"),
        ("有人持刀抢劫", "crime"),
        ("邻居在家暴", "crime"),
        ("我妈突然晕倒了", "medical"),
        ("有人喘不上气", "medical"),
        ("我不想活了想自杀", "medical"),
        # live emergencies as citizens write them: short, no punctuation, with or without 了
        ("着火了", "fire"),
        ("着火了！！快来人", "fire"),
        ("隔壁起火", "fire"),
        ("仓库爆炸了", "fire"),
        ("有人晕倒了", "medical"),
        ("有人晕倒了没反应", "medical"),
        ("老人晕倒在路边", "medical"),
        ("我爸心脏病犯了", "medical"),
        ("孩子好像中毒了", "medical"),
        ("有人要跳楼", "medical"),
        ("快叫救护车", "medical"),
        ("闻到很大的煤气味", "gas"),
        ("厨房燃气泄漏", "gas"),
        ("路口有人撞车了", "traffic"),
        ("遇到车祸了怎么办", "traffic"),
        ("有人打人", "crime"),
        ("我要报警", "crime"),
        ("救命 有人拿刀", "crime"),
        ("我好害怕，外面有人持刀", "crime"),
        ("我们小区3号楼现在着火了，浓烟很大，楼里还有老人没出来，消防车还没到，请赶紧联系119过来救援", "fire"),
    ],
)
def test_emergencies_are_detected(text, kind):
    assert detect(text) == kind


@pytest.mark.parametrize(
    "text", ["暖气不热怎么办", "楼上装修太吵", "燃气费怎么交", "小区停车难", "我要投诉物业", "", None, "🙂🙂"]
)
def test_ordinary_messages_are_not_emergencies(text):
    assert detect(text) is None


@pytest.mark.parametrize(
    "text, kind",
    [
        ("小区违建堆满杂物，一旦发生火灾，后果不可想象", "fire"),
        ("万一哪天着火了谁负责", "fire"),
        ("如果燃气泄漏怎么办", "gas"),
        ("工厂排放的废气很刺鼻，居民呼吸时间长了会头晕甚至晕倒，这个问题已经反映好几年了", "medical"),
        ("小区消防通道被车辆堵塞，起火了消防车根本进不来", "fire"),
        ("去年小区发生过火灾", "fire"),
        ("游乐园的跳楼机是否办理了特种设备许可", None),
        ("楼下火锅店油烟太大", None),
        ("烟雾报警器老是误报", None),
        ("建议加强防火宣传", None),
        ("我父亲有心脏病，楼上装修太吵", "medical"),
        ("餐馆卫生差，担心食物中毒风险", "medical"),
        ("没有着火，只是有烟味", "fire"),
        ("多次报警都没人管，噪音扰民", "crime"),
        ("急救中心电话是多少", None),
    ],
)
def test_a_mentioned_danger_is_not_an_emergency(text, kind):
    assert detect(text) is None
    assert mentioned(text) == kind


def test_a_detected_emergency_is_not_made_ambiguous_by_the_old_ranking():
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.emergency_detector import EmergencyDetector

    message = Message(
        data={
            "text": "等等，楼下闻到很大的煤气味",
            "intent": {"name": "file_complaint", "confidence": 0.99},
            "intent_ranking": [{"name": "file_complaint", "confidence": 0.99}, {"name": "inform", "confidence": 0.01}],
        }
    )
    EmergencyDetector().process([message])
    FallbackClassifier({"threshold": 0.45, "ambiguity_threshold": 0.05}).process([message])
    assert message.get("intent")["name"] == "report_emergency"


def test_a_guessed_emergency_that_is_only_mentioned_becomes_a_request():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.emergency_detector import EmergencyDetector

    message = Message(
        data={
            "text": "违建堆满杂物，一旦发生火灾，后果不可想象",
            "intent": {"name": "report_emergency", "confidence": 0.9},
            "intent_ranking": [{"name": "report_emergency", "confidence": 0.9}],
        }
    )
    EmergencyDetector().process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert not [e for e in message.get("entities") or [] if e["entity"] == "emergency_type"]


def test_the_real_letters_are_rarely_emergencies():
    """bot/emergency.py alone over the mailbox letters (titles and openings): at most 0.2 % flagged."""
    import json
    from pathlib import Path

    letters = Path(__file__).resolve().parents[3] / "shared" / "data" / "citizen-messages" / "messages-a.jsonl"
    if not letters.exists():
        pytest.skip(f"{letters} is not here")
    texts = []
    for line in letters.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        texts += [row.get("title") or "", (row.get("text") or "")[:300]]
    flagged = sum(1 for text in texts if detect(text))
    assert flagged / len(texts) <= 0.002, flagged

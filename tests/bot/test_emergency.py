"""Emergencies are recognised deterministically, before anything else."""

import pytest

from bot.emergency import detect


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
    ],
)
def test_emergencies_are_detected(text, kind):
    assert detect(text) == kind


@pytest.mark.parametrize(
    "text", ["暖气不热怎么办", "楼上装修太吵", "燃气费怎么交", "小区停车难", "我要投诉物业", "", None, "🙂🙂"]
)
def test_ordinary_messages_are_not_emergencies(text):
    assert detect(text) is None


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

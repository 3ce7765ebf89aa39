"""The bot's words live in the domain: every response an action sends exists there, every response there
is sent by something (an action, a rule or story, or a form asking for its slot), and no action sends
wording of its own (text=) other than the knowledge base's answers."""

from __future__ import annotations

import re

import yaml

from bot.settings import ROOT

ACTIONS = sorted((ROOT / "actions").glob("*.py"))


def sent_by_actions() -> set:
    names = set()
    for path in ACTIONS:
        names |= set(re.findall(r"\"(utter_[a-z_]+)\"", path.read_text(encoding="utf-8")))
    return names - {"utter_action"}  # the bot event's metadata key that names its response


def in_training_data() -> set:
    names = set()
    for path in [*(ROOT / "data").glob("*/*.yml"), *(ROOT / "tests" / "stories").glob("*.yml")]:
        names |= set(re.findall(r"action: (utter_[a-z_]+)", path.read_text(encoding="utf-8")))
    return names


def test_every_response_an_action_sends_is_in_the_domain(domain):
    assert sent_by_actions() - set(domain["responses"]) == set()


def test_every_response_in_the_domain_is_sent(domain):
    asked_by_forms = {f"utter_ask_{slot}" for form in domain["forms"].values() for slot in form["required_slots"]}
    from bot.emergency import KINDS

    emergencies = {f"utter_emergency_{kind}" for kind in KINDS}  # action_emergency sends utter_emergency_<kind>
    used = sent_by_actions() | in_training_data() | asked_by_forms | emergencies
    assert set(domain["responses"]) - used == set()


def test_every_emergency_kind_has_its_response(domain):
    from bot.emergency import KINDS

    assert {f"utter_emergency_{kind}" for kind in KINDS} <= set(domain["responses"])


def test_actions_send_no_wording_of_their_own():
    """Only the knowledge base's answers go out as text= (they are faq/'s text, not the bot's)."""
    for path in ACTIONS:
        source = path.read_text(encoding="utf-8")
        own_text = len(re.findall(r"utter_message\(\s*text=", source))
        if path.name == "faq.py":
            assert own_text == 1 and "utter_message(text=entry.answer.strip())" in source
        else:
            assert own_text == 0, path.name


def test_each_skill_has_its_domain_rules_and_actions():
    skills = {"core", "faq", "complaint", "ticket_status", "handoff", "rating"}
    assert {path.stem for path in (ROOT / "domain").glob("*.yml")} == skills
    assert {path.stem for path in (ROOT / "data" / "rules").glob("*.yml")} == skills
    assert {path.stem for path in (ROOT / "data" / "stories").glob("*.yml")} <= skills
    assert skills <= {path.stem for path in ACTIONS}


def test_the_domain_files_are_valid_yaml_with_a_version():
    for path in (ROOT / "domain").glob("*.yml"):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["version"] == "3.1", path.name


def test_the_action_server_serves_exactly_the_domain_s_actions(domain):
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == set(domain["actions"]) - set(domain["forms"])

"""Emergencies (redirected at once) and matters the hotline does not handle (explained politely)."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_entity, latest_text
from bot.emergency import detect

# Matters with their own legal channel: (pattern, where to go).
_OUT_OF_SCOPE = (
    (r"起诉|诉讼|打官司|上诉|法院|判决", "诉讼事项请向有管辖权的人民法院提起，可拨打12368诉讼服务热线，或向12348法律援助热线咨询。"),
    (r"仲裁", "劳动争议请向劳动人事争议仲裁委员会申请仲裁；合同等商事纠纷可按约定向仲裁委员会申请。"),
    (r"信访|复查|复核", "信访事项的复查、复核，请按《信访工作条例》向原办理机关的上一级机关提出。"),
    (r"行政复议|复议", "行政复议请在知道行政行为之日起60日内，向依法有权的行政复议机关（一般为县级以上人民政府）提出。"),
    (r"军|部队|兵役|涉密", "涉军、涉密事项请向相关部队、人民武装部或退役军人事务部门反映。"),
)
_GENERAL = (
    "12345热线受理咨询、求助、投诉、建议类的非紧急诉求。已经进入诉讼、仲裁、信访复查复核、"
    "行政复议等法定程序的事项，以及涉军事项，需要通过对应的法定渠道办理，热线无法替代。"
)


class ActionEmergency(Action):
    """Gives the emergency number and safety advice before anything else."""

    def name(self) -> Text:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        kind = latest_entity(tracker, "emergency_type") or detect(latest_text(tracker)) or "crime"
        dispatcher.utter_message(response=f"utter_emergency_{kind}")
        if tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_emergency_resume")
        return []


class ActionOutOfScope(Action):
    """Explains what the hotline does not handle and names the right channel."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = latest_text(tracker)
        specific = [advice for pattern, advice in _OUT_OF_SCOPE if re.search(pattern, text)]
        dispatcher.utter_message(text="\n".join([_GENERAL] + specific[:2]))
        dispatcher.utter_message(response="utter_anything_else")
        return []

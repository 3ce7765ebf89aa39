"""Dialogue bench (issue 14): real letters as first messages, and ordinary short turns in every state.

    python -m bench.dialogue run --model models/bianmin-….tar.gz --actions-url http://127.0.0.1:5055/webhook \
        --out /tmp/new.json [--every 4]
    python -m bench.dialogue report --baseline /tmp/base.json --new /tmp/new.json   # writes REPORT.md here

`run` loads the model in process (rasa Agent, in-memory tracker store) and talks to a running action
server (`python -m actions`); it uses nothing else of the project, so the same file runs against an older
checkout (the baseline). Intake: the title and the first 300 characters of the text of every
`--every`-th letter of messages-a.jsonl (read at run time, never stored; the results keep only ids and
outcome labels), each as the first message of a new conversation. Ordinary turns: the short messages
below × the dialogue states, each probe followed by a real question that must still be answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
LETTERS = HERE.parents[2] / "shared" / "data" / "citizen-messages" / "messages-a.jsonl"

ORDINARY = [
    "好的",
    "好",
    "嗯",
    "嗯嗯",
    "行",
    "知道了",
    "ok",
    "OK",
    "好的谢谢",
    "谢谢",
    "人呢",
    "在吗",
    "有人吗",
    "喂",
    "？",
    "？？？",
    "。",
    "...",
    "!",
    "😊",
    "👍",
    "🙏",
    "1",
    "2",
    "0",
    "123",
    "随便",
    "没有了",
    "没了",
    "不知道",
    "哦",
    "哦哦",
    "收到",
    "明白了",
    "可以",
    "不用了",
    "是的",
    "对",
    "你好",
    "hello",
    "嗯？",
    "6666",
    "哈哈",
    "好吧",
    "emmm",
    "啊",
    "然后呢",
]
NEXT_QUESTION = "暖气不热怎么办"

# answers that move the complaint form on, by requested slot
FORM_ANSWERS = {
    "description": "小区门口的路灯坏了两个多月了，晚上一片漆黑，一直没人修",
    "category": "是的",
    "district": "南开区",
    "address": "南开区幸福路12号",
    "occurred_at": "两个月前",
    "person_name": "张三",
    "phone": "13812345678",
    "confidential": "不用保密",
    "confirmed": "确认",
    "ticket_number": "BM261122K7M4Q9XZ",
    "lookup_phone": "13812345678",
}


def outcome(actions: List[str], responses: List[Optional[str]]) -> str:
    """The label of a first message's turn."""
    if "action_emergency" in actions:
        return "emergency"
    if set(responses) & {"utter_ask_rephrase", "utter_offer_human"} or not responses:
        return "not understood"
    if "action_start_complaint" in actions or "complaint_form" in actions or "utter_offer_register" in responses:
        return "complaint intake"
    if "action_out_of_scope" in actions:
        return "scope redirect"
    if set(responses) & {"utter_faq_feedback", "utter_faq_suggestions"}:
        return "answer or suggestion"
    return "other: " + ",".join(name or "text" for name in responses)


class Bench:
    def __init__(self, model: str, actions_url: str) -> None:
        from rasa.core.agent import Agent
        from rasa.utils.endpoints import EndpointConfig

        self.agent = Agent.load(model, action_endpoint=EndpointConfig(actions_url))
        self.count = 0

    async def tracker(self, sender: str) -> Any:
        return await self.agent.tracker_store.retrieve(sender)

    async def turn(self, sender: str, text: str) -> Dict[str, Any]:
        """Sends one message; the turn's actions, bot messages and response names, and its state at the end."""
        started = time.monotonic()
        replies = await self.agent.handle_text(text, sender_id=sender) or []
        self.count += 1
        if self.count % 100 == 0:
            print(f"{self.count} turns", flush=True)
        tracker = await self.tracker(sender)
        events = list(tracker.events)
        last_user = max(i for i, e in enumerate(events) if type(e).__name__ == "UserUttered")
        actions, responses, texts = [], [], []
        for event in events[last_user + 1 :]:
            kind = type(event).__name__
            if kind == "ActionExecuted" and event.action_name != "action_listen":
                actions.append(event.action_name)
            elif kind == "BotUttered":
                responses.append((event.metadata or {}).get("utter_action"))
                texts.append(event.text or "")
        return {
            "actions": actions,
            "responses": responses,
            "texts": texts,
            "replies": len(replies),
            "listening": tracker.latest_action_name == "action_listen" or tracker.is_paused(),
            "paused": tracker.is_paused(),
            "requested_slot": tracker.get_slot("requested_slot"),
            "active_loop": tracker.active_loop_name,
            "seconds": round(time.monotonic() - started, 3),
        }

    async def hand_back(self, sender: str) -> Dict[str, Any]:
        """What the agent console does when an agent hands a conversation back (bot/rasa_client.py): the bot
        resumes and listens, then EXTERNAL_handback greets back."""
        from rasa.shared.core.events import ActionExecuted, ConversationResumed

        tracker = await self.tracker(sender)
        tracker.update(ConversationResumed())
        tracker.update(ActionExecuted("action_listen"))
        await self.agent.tracker_store.save(tracker)
        return await self.turn(sender, "/EXTERNAL_handback")

    async def clone(self, source: str, target: str) -> None:
        """A new conversation `target` with the events of `source` (a dialogue state reused by many probes)."""
        from rasa.shared.core.trackers import DialogueStateTracker

        tracker = await self.tracker(source)
        copy = DialogueStateTracker.from_events(target, list(tracker.events), slots=self.agent.domain.slots)
        await self.agent.tracker_store.save(copy)


def intake_order(letters: Path, every: int) -> List[Dict[str, Any]]:
    """Every `every`-th letter, in one seeded order: two runs (baseline and new) stopped at any point have done
    random samples of the same letters, and their common messages are compared (`report`)."""
    rows = [json.loads(line) for line in letters.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = [row for index, row in enumerate(rows) if index % every == 0]
    random.Random(14).shuffle(chosen)
    return chosen


def progress_file(out: str) -> Path:
    """Intake results as they are made, one JSON line each: a run started again continues from them."""
    return Path(f"{out}.intake.jsonl")


def load_run(path: str) -> Dict[str, Any]:
    """A run's results, with the intake results of its progress file (a run stopped early has only those)."""
    out = Path(path)
    data: Dict[str, Any] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    progress = progress_file(path)
    if progress.exists():
        data["intake"] = [json.loads(line) for line in progress.read_text(encoding="utf-8").splitlines() if line]
    return data


async def intake(bench: Bench, every: int, letters: Path, out: str) -> List[Dict[str, Any]]:
    progress = progress_file(out)
    results = load_run(out).get("intake", [])
    done = {(row["id"], row["part"]) for row in results}
    with progress.open("a", encoding="utf-8") as log:
        for row in intake_order(letters, every):
            for part, text in (("title", row.get("title") or ""), ("text", (row.get("text") or "")[:300])):
                if not text.strip() or (row["id"], part) in done:
                    continue
                turn = await bench.turn(f"intake-{row['id']}-{part}", text)
                result = {
                    "id": row["id"],
                    "part": part,
                    "outcome": outcome(turn["actions"], turn["responses"]),
                    "actions": len(turn["actions"]),
                    "messages": len(turn["responses"]),
                    "seconds": turn["seconds"],
                    **({"responses": turn["responses"]} if len(turn["responses"]) > 3 else {}),
                }
                results.append(result)
                log.write(json.dumps(result, ensure_ascii=False) + "\n")
                log.flush()
    return results


async def states(bench: Bench) -> List[Tuple[str, str]]:
    """(state name, sender whose conversation is in that state)."""
    found = [("fresh", "state-fresh")]
    await bench.turn("state-greet", "你好")
    found.append(("after greeting", "state-greet"))
    await bench.turn("state-answer", NEXT_QUESTION)
    found.append(("after an answer", "state-answer"))
    sender = "state-form"
    turn = await bench.turn(sender, "我要投诉")
    for step in range(15):
        slot = turn["requested_slot"]
        if turn["active_loop"] != "complaint_form" or not slot:
            break
        name = f"complaint form: {slot}" + (" (confirm step)" if slot == "confirmed" else "")
        if name in dict(found):
            break
        snapshot = f"state-form-{step}"
        await bench.clone(sender, snapshot)
        found.append((name, snapshot))
        turn = await bench.turn(sender, FORM_ANSWERS.get(slot, "是的"))
    turn = await bench.turn("state-lookup", "查询工单")
    found.append(("ticket look-up: " + str(turn["requested_slot"]), "state-lookup"))
    turn = await bench.turn("state-human", "转人工")
    found.append(("queued for a human" if turn["paused"] else "after 转人工 (not queued)", "state-human"))
    await bench.clone("state-human", "state-handback")
    await bench.hand_back("state-handback")
    found.append(("after hand-back", "state-handback"))
    return found


async def ordinary(
    bench: Bench, follow_every: int = 1, deadline: float = float("inf"), only: Optional[List[str]] = None
) -> List[Dict[str, Any]]:
    results: List[Dict[str, Any]] = []
    for state, source in await states(bench):
        if only and not any(name in state for name in only):
            continue
        for index, text in enumerate(ORDINARY):
            sender = f"probe-{source}-{index}"
            if source != "state-fresh":
                await bench.clone(source, sender)
            if time.monotonic() > deadline:
                return results  # out of time: the probes so far
            probe = await bench.turn(sender, text)
            paused = probe["paused"]
            follow = None
            if index % follow_every == 0:
                if paused:  # queued for a human: the agent hands back, then the citizen asks
                    await bench.hand_back(sender)
                follow = await bench.turn(sender, NEXT_QUESTION)
            counts = Counter(probe["texts"])
            per_action = Counter(probe["actions"])
            results.append(
                {
                    "state": state,
                    "message": text,
                    "loop": len(probe["actions"]) >= 10 or any(n >= 3 for n in per_action.values()),
                    "empty": not probe["texts"] and not paused,
                    "repeat": any(n > 1 for n in counts.values()),
                    "too_many": len(probe["texts"]) > 3,
                    "not_listening": not probe["listening"],
                    "next_answered": None if follow is None else bool(follow["texts"]) and not follow["paused"],
                    "responses": probe["responses"],
                    "seconds": probe["seconds"],
                }
            )
    return results


async def run(args: argparse.Namespace) -> None:
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)  # Rasa's debug log of every tracker costs more than the turn
    bench = Bench(args.model, args.actions_url)
    started = time.monotonic()
    result: Dict[str, Any] = {"model": Path(args.model).name, "every": args.every}
    previous = load_run(args.out)
    if not args.skip_ordinary and "ordinary" not in previous:  # first: short, and complete in any run
        only = [name for name in args.states.split(",") if name] if args.states else None
        result["ordinary"] = await ordinary(bench, args.follow_every, started + args.max_seconds, only)
        write_run(args.out, {**result, "turns": bench.count, "seconds": round(time.monotonic() - started, 1)})
    elif "ordinary" in previous:
        result["ordinary"] = previous["ordinary"]
    if not args.skip_intake:
        result["intake"] = await intake(bench, args.every, Path(args.letters), args.out)
    result["turns"] = previous.get("turns", 0) + bench.count
    result["seconds"] = round(previous.get("seconds", 0.0) + time.monotonic() - started, 1)
    write_run(args.out, result)
    print(f"{bench.count} turns in {result['seconds']} s -> {args.out}")


def write_run(out: str, result: Dict[str, Any]) -> None:
    kept = {key: value for key, value in result.items() if key != "intake"}  # the intake is in its progress file
    Path(out).write_text(json.dumps(kept, ensure_ascii=False, indent=1), encoding="utf-8")


def common_intake(base: Dict[str, Any], new: Dict[str, Any]) -> None:
    """Keeps in both runs the intake messages both have done (runs stopped early did different numbers)."""
    if not base.get("intake") or not new.get("intake"):
        return
    both = {(r["id"], r["part"]) for r in base["intake"]} & {(r["id"], r["part"]) for r in new["intake"]}
    for data in (base, new):
        data["intake"] = [r for r in data["intake"] if (r["id"], r["part"]) in both]


def shares(rows: List[Dict[str, Any]]) -> Dict[str, float]:
    labels = Counter(row["outcome"] if not row["outcome"].startswith("other") else "other" for row in rows)
    return {label: 100.0 * n / len(rows) for label, n in labels.items()}


def report(args: argparse.Namespace) -> None:
    base = load_run(args.baseline) if args.baseline else {}
    new = load_run(args.new)
    common_intake(base, new)
    lines = ["# Dialogue bench (issue 14)", "", Path(args.preamble).read_text(encoding="utf-8").strip(), ""]
    lines += ["The load measurement (concurrent conversations) has its own report: [LOAD.md](LOAD.md).", ""]
    if not base:
        lines += ["**This run has no baseline** (see the notes at the end).", ""]
    lines += ["## Intake: letters as a first message", ""]
    every = new.get("every", 1)
    planned = sum(
        bool((row.get(part) or "").strip()) for row in intake_order(LETTERS, every) for part in ("title", "text")
    )
    lines += [
        f"Messages compared: **{len(new.get('intake', []))} of {planned}** (the title and the 300-character opening "
        f"of every {'' if every == 1 else f'{every}-th '}letter of messages-a.jsonl"
        + (", the ones both runs did" if base else "")
        + ").",
        "",
    ]
    for name, data in (("baseline", base), ("new", new)):
        if "intake" not in data:
            continue
        s = shares(data["intake"])
        taken = sum(s.get(k, 0.0) for k in ("complaint intake", "answer or suggestion", "scope redirect"))
        lines.append(
            f"- **{name}** ({data['model']}, {len(data['intake'])} messages): taken up **{taken:.1f} %** "
            f"(complaint intake {s.get('complaint intake', 0):.1f} %, answer or suggestion "
            f"{s.get('answer or suggestion', 0):.1f} %, scope redirect {s.get('scope redirect', 0):.1f} %), "
            f"did not understand **{s.get('not understood', 0):.1f} %**, emergency **{s.get('emergency', 0):.2f} %**, "
            f"other {s.get('other', 0):.1f} %; at most {max(r['messages'] for r in data['intake'])} bot messages "
            f"and {max(r['actions'] for r in data['intake'])} actions in a turn, "
            f"{sum(r['messages'] > 3 for r in data['intake'])} turns with more than 3 messages"
        )
    other = Counter(r["outcome"] for r in new.get("intake", []) if r["outcome"].startswith("other"))
    if other:
        lines += ["", "Other outcomes (new): " + "; ".join(f"{k} ×{n}" for k, n in other.most_common(8))]
    lines += [
        "",
        "## Ordinary turns",
        "",
        f"{len(ORDINARY)} short messages × the dialogue states; each probe is followed by “{NEXT_QUESTION}”.",
        "",
        "| | probes | loops | empty | repeats | > 3 messages | not listening | next question unanswered |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, data in (("baseline", base), ("new", new)):
        rows = data.get("ordinary", [])
        if rows:
            lines.append(
                f"| {name} | {len(rows)} | {sum(r['loop'] for r in rows)} | {sum(r['empty'] for r in rows)} | "
                f"{sum(r['repeat'] for r in rows)} | {sum(r['too_many'] for r in rows)} | "
                f"{sum(r['not_listening'] for r in rows)} | {sum(r['next_answered'] is False for r in rows)} |"
            )
    lines += ["", "Per state (new): probes with any failure", ""]
    by_state: Dict[str, List[str]] = {}
    for row in new.get("ordinary", []):
        failed = [k for k in ("loop", "empty", "repeat", "too_many", "not_listening") if row[k]]
        if row["next_answered"] is False:
            failed.append("next unanswered")
        by_state.setdefault(row["state"], [])
        if failed:
            by_state[row["state"]].append(f"{row['message']}: {'/'.join(failed)}")
    for state, failures in by_state.items():
        lines.append(f"- {state}: " + ("none" if not failures else "; ".join(failures[:6])))
    base_states = sorted({r["state"] for r in base.get("ordinary", [])})
    if base_states:
        lines += [
            "",
            "Baseline failures per state: "
            + "; ".join(
                f"{s}: {sum(1 for r in base['ordinary'] if r['state'] == s and (r['loop'] or r['empty'] or r['repeat'] or r['not_listening'] or r['next_answered'] is False))}"
                for s in base_states
            ),
        ]
    lines += [
        "",
        (f"Run time: baseline {base.get('seconds')} s ({base.get('turns')} turns), " if base else "Run time: ")
        + f"new {new.get('seconds')} s ({new.get('turns')} turns).",
    ]
    (HERE / "REPORT.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print((HERE / "REPORT.md").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dialogue")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--model", required=True)
    r.add_argument("--actions-url", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--every", type=int, default=1, help="every n-th letter (deterministic sample)")
    r.add_argument("--letters", default=str(LETTERS))
    r.add_argument("--follow-every", type=int, default=1, help="the next question after every n-th probe")
    r.add_argument("--max-seconds", type=float, default=float("inf"), help="stop the ordinary turns after this")
    r.add_argument("--states", help="ordinary turns only in the states whose names contain one of these (a,b)")
    r.add_argument("--skip-intake", action="store_true")
    r.add_argument("--skip-ordinary", action="store_true")
    p = sub.add_parser("report")
    p.add_argument("--baseline", help="the baseline's run (a run without one says so in the report)")
    p.add_argument("--new", required=True)
    p.add_argument("--preamble", default=str(HERE / "method.md"))
    args = parser.parse_args()
    if args.command == "run":
        asyncio.run(run(args))
    else:
        report(args)


if __name__ == "__main__":
    main()

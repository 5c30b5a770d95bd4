"""Ablation of ranking by meaning and what else might raise held-out MRR (issue #16): one row per configuration.

Builds the knowledge base of ``bench.relevance`` once (the 6,130 real records, their passage vectors from the
cache in ``bench/work``), then runs the product over the clean queries of every set and the agent queries as
typed, once per row, each row a change to the shipped configuration. A row is chosen or dropped on the **tune**
split only; held-out is reported beside it and never looked at to choose.

Run ``python -m bench.ablation`` (about a minute a row on 2 cores) or ``--rows words,rrf`` for some.
"""

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

from bench import anchors, corpora, relevance
from bench.data import CALL_FILES, QUERY_FILES, add_data_argument, data_or_exit
from bench.report import RESULTS_DIR, format_table, latency_summary, log, write_json
from engine import scoring, semantic
from engine.embedding import DEFAULT_MODEL, load_embedder
from engine.service import SearchService
from engine.sources import OutcomesFromFeedback, SynonymsFile
from engine.vocabulary import VocabularyCache
from index import whoosh_compat
from indexer.context import open_knowledge_base
from store.records import validate_record

# name → (what it changes, settings of engine.semantic / engine.scoring to override, ranking by meaning on);
# a row orders the candidates by reciprocal rank fusion unless its settings say "rerank".
ROWS = {
    "words": ("words only (ranking by meaning off): the product before issue #16", {}, False),
    "rrf": ("+ meaning, RRF k=60, weights 1:1, depth 15 (KB_RERANK=false)", {}, True),
    "rerank": ("+ meaning, the linear re-ranker of bench.rerank_train, depth 15 (shipped)", {"rerank": True}, True),
    "depth-30": ("+ meaning, 30 hits of each ranking fused", {"FUSION_DEPTH": 30}, True),
    "raw-query": ("+ meaning, the query embedded as typed (no corrections)", {"meant": False}, True),
    "dense-0.5": ("+ meaning, dense weight 0.5", {"DENSE_WEIGHT": 0.5}, True),
    "dense-1.5": ("+ meaning, dense weight 1.5", {"DENSE_WEIGHT": 1.5}, True),
    "dense-2": ("+ meaning, dense weight 2", {"DENSE_WEIGHT": 2.0}, True),
    "k-20": ("+ meaning, RRF k=20", {"RRF_K": 20}, True),
    "depth-50": ("+ meaning, 50 hits of each ranking fused", {"FUSION_DEPTH": 50}, True),
    "floor-0.2": ("+ meaning, found by meaning alone from similarity 0.2", {"MIN_SIMILARITY": 0.2}, True),
    "floor-0.4": ("+ meaning, found by meaning alone from similarity 0.4", {"MIN_SIMILARITY": 0.4}, True),
    "depth-15-floor-0.4": (
        "+ meaning, 15 hits fused, by meaning alone from 0.4",
        {"FUSION_DEPTH": 15, "MIN_SIMILARITY": 0.4},
        True,
    ),
    "bm25-k1.5-b0.5": ("words only, BM25 k1=1.5 b=0.5", {"K1": 1.5, "B": 0.5}, False),
    "bm25-k0.9-b0.4": ("words only, BM25 k1=0.9 b=0.4 (Anserini's defaults)", {"K1": 0.9, "B": 0.4}, False),
}
_STATE = {}


def apply(overrides):
    """Set a row's module-level settings in this process (each row runs in processes of its own)."""
    for name, value in overrides.items():
        if name == "rerank":
            continue
        if name in ("K1", "B"):
            setattr(scoring, name, value)
            # length_norms is cached and takes b and k1 as defaults: set them on the function itself.
            scoring.length_norms.__wrapped__.__defaults__ = (scoring.B, scoring.K1)
            scoring.length_norms.cache_clear()
        elif name == "meant":
            import engine.service

            engine.service.meant_text = lambda plan: plan.text
        else:
            setattr(semantic, name, value)
            if name == "FUSION_DEPTH":
                import engine.service

                engine.service.FUSION_DEPTH = value


def _start(kb_folder, row, model):
    apply(ROWS[row][1])
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(kb_folder), "KB_DATABASE_URL": ""})
    stage = None
    if ROWS[row][2]:
        stage = semantic.SemanticStage(kb.home.root, model, rerank=ROWS[row][1].get("rerank", False))
        stage.use(load_embedder(model, threads=1))
    service = SearchService(
        kb.home,
        VocabularyCache(),
        SynonymsFile(),
        time_limit_ms=relevance.TIME_LIMIT_MS,
        outcomes_source=OutcomesFromFeedback(kb.store),
        semantic=stage,
    )
    _STATE["search"] = relevance.product_searcher(service)
    _STATE["search"]("printer offline", 10)


def _score(item):
    set_name, variant, query, text, split = item
    scores, seconds = relevance.run_one(_STATE["search"], text, query)
    return set_name, variant, split, scores["rr"], seconds


def run_row(row, kb_folder, runs, model, jobs):
    """Score every run with one row's configuration; returns ``{(set, variant, split): [rr...]}`` and times."""
    context = multiprocessing.get_context("fork")
    found, seconds = {}, []
    with context.Pool(jobs, _start, (kb_folder, row, model)) as pool:
        for set_name, variant, split, rr, took in pool.imap(_score, runs, chunksize=20):
            found.setdefault((set_name, variant, split), []).append(rr)
            seconds.append(took)
    return found, latency_summary(seconds)


def summarize(row, found, timing):
    line = {"row": row, "what": ROWS[row][0], "p95_ms": timing["p95_ms"]}
    for (set_name, variant, split), values in found.items():
        line[f"{set_name}/{variant}/{split}"] = round(sum(values) / len(values), 4)
    return line


def main(argv=None):
    """Run the rows asked for; print the table and write ``bench/results/ablation.json``."""
    whoosh_compat.install()
    parser = argparse.ArgumentParser(prog="python -m bench.ablation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default=",".join(ROWS), help=f"rows to run (default all: {', '.join(ROWS)})")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "ablation.json")
    add_data_argument(parser)
    args = parser.parse_args(argv)
    rows = [row.strip() for row in args.rows.split(",") if row.strip()]
    unknown = [row for row in rows if row not in ROWS]
    if unknown:
        parser.error(f"unknown rows {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    data = data_or_exit(parser.prog, args.data, CALL_FILES + QUERY_FILES)
    calls = corpora.all_calls(data)
    records = [validate_record(call) for call in calls]
    runs = []
    for set_name, load in relevance.QUERY_SETS.items():
        queries = load(data)
        tune, _ = corpora.split_queries(queries)
        tune_ids = {query.qid for query in tune}
        for query in queries:
            split = "tune" if query.qid in tune_ids else "held_out"
            runs.append((set_name, "clean", query, query.text, split))
            if set_name == "agent":
                runs.append((set_name, "typed", query, query.typed, split))
    lines = []
    with tempfile.TemporaryDirectory(prefix="kb-ablation-") as workdir:
        kb, _ = relevance.build_product_kb(calls, Path(workdir) / "kb")
        embedder = load_embedder(DEFAULT_MODEL, threads=1)
        anchors.copy_vectors(anchors.ensure_vectors(records, embedder, anchors.WORK_DIR), kb.home.root)
        kb.close()
        for row in rows:
            started = time.perf_counter()
            found, timing = run_row(row, Path(workdir) / "kb", runs, DEFAULT_MODEL, max(1, args.jobs))
            lines.append(summarize(row, found, timing))
            log(f"{row}: {time.perf_counter() - started:.0f} s, {lines[-1]}")
    columns = [("row", "row"), ("what", "what")]
    for split in ("held_out", "tune"):
        for key in ("agent/typed", "agent/clean", "stackfaq/clean", "gitbugs/clean", "ms_errors/clean"):
            columns.append((f"{key}/{split}", f"{key} {split}"))
    columns.append(("p95_ms", "p95 ms"))
    print(format_table(tuple(columns), lines))
    print(f"\nwrote {write_json({'lines': lines}, args.json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

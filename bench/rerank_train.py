"""Fit the re-ranker shipped with the product (``engine/data/rerank-<model>.json``) on the **tune** split.

Builds the knowledge base of ``bench.relevance`` (the 6,130 real records, their passage vectors from the cache in
``bench/work``), runs the product with ranking by meaning over every tune query of every set (clean, and each
variant ``bench.relevance`` scores: typos, British spelling, the agent queries as typed), records the candidates
of both rankings with their features (``engine.rerank.candidate_features``), and fits the weights
(``bench.rerank_fit``). Held-out queries are never run here: ``python -m bench.ablation --rows rrf,rerank``
reports them.

Run ``python -m bench.rerank_train`` (a few minutes on 2 cores); ``--out FILE`` writes elsewhere than the shipped
file.
"""

import argparse
import json
import multiprocessing
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

from bench import anchors, corpora, relevance
from bench.data import CALL_FILES, QUERY_FILES, add_data_argument, data_or_exit
from bench.report import log
from bench.rerank_fit import TrainingQuery, choose_penalty, fit_weights, mean_rr_by_group, standardisation
from engine import rerank, semantic
from engine.embedding import DEFAULT_MODEL, load_embedder
from engine.results import InvalidSearchError
from engine.service import SearchService
from engine.sources import SynonymsFile
from engine.vocabulary import VocabularyCache
from index import whoosh_compat
from indexer.context import open_knowledge_base
from store.records import validate_record

_STATE = {}


class RecordingStage(semantic.SemanticStage):
    """The product's semantic stage, recording each search's candidates and features, ordering them by RRF."""

    def __init__(self, index_root, model_name):
        super().__init__(index_root, model_name, rerank=False)
        self.recorded = None

    @property
    def reranker(self):
        """Always set, so that the search service asks this stage to order its candidates."""
        return self

    def reranked(self, lexical, dense, vector, word_count, coverage_of):
        """Record the candidates (ids and features), then fuse as the product does without a re-ranker."""
        docnums, matrix, stored_of = self.candidates(lexical, dense, vector, word_count, coverage_of)
        self.recorded = ([stored_of[docnum]["id"] for docnum in docnums], matrix)
        return semantic.fuse(lexical, dense)


def _start(kb_folder, model):
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(kb_folder), "KB_DATABASE_URL": ""})
    stage = RecordingStage(kb.home.root, model)
    stage.use(load_embedder(model, threads=1))
    _STATE["stage"] = stage
    _STATE["service"] = SearchService(
        kb.home,
        VocabularyCache(),
        SynonymsFile(),
        time_limit_ms=relevance.TIME_LIMIT_MS,
        result_cache_size=0,
        semantic=stage,
    )


def _record(item):
    group, qid, text, relevant, excluded = item
    stage = _STATE["stage"]
    stage.recorded = None
    try:
        _STATE["service"].search(text, limit=10)
    except InvalidSearchError:
        return None
    if stage.recorded is None:
        return None
    ids, matrix = stage.recorded
    keep = [position for position, call_id in enumerate(ids) if call_id not in excluded]
    answers = np.array([ids[position] in relevant for position in keep], dtype=bool)
    query_set = group.split("/", 1)[0]
    return TrainingQuery(f"{group}/{qid}", group, matrix[keep], answers, source=f"{query_set}/{qid}")


def tune_runs(data):
    """``(group, qid, text, relevant ids, excluded ids)`` for every tune query and variant of every set."""
    runs = []
    for set_name, load in relevance.QUERY_SETS.items():
        tune, _ = corpora.split_queries(load(data))
        for variant, query, text in relevance.query_variants(tune, data):
            runs.append((f"{set_name}/{variant}", query.qid, text, query.relevant_ids, query.exclude_ids))
    return runs


def collect(runs, kb_folder, model, jobs):
    """The training queries: each run's candidates recorded by the product (runs with no vector are left out)."""
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, _start, (kb_folder, model)) as pool:
        found = pool.map(_record, runs, chunksize=20)
    return [query for query in found if query is not None]


def build_knowledge_base(data, workdir, model, vectors=anchors.WORK_DIR):
    """The benchmark's knowledge base in ``workdir/kb``, with the passage vectors of ``model`` cached in ``vectors``."""
    calls = corpora.all_calls(data)
    kb, _ = relevance.build_product_kb(calls, Path(workdir) / "kb")
    embedder = load_embedder(model, threads=1)
    records = [validate_record(call) for call in calls]
    anchors.copy_vectors(anchors.ensure_vectors(records, embedder, vectors), kb.home.root)
    kb.close()
    return Path(workdir) / "kb"


def _table(before, after):
    lines = [f"{'group (tune)':28} {'RRF':>7} {'re-ranker':>10}"]
    lines += [f"{group:28} {before[group]:7.3f} {after[group]:10.3f}" for group in before]
    return "\n".join(lines)


def main(argv=None):
    """Fit on the tune split and write the re-ranker's file; print tune MRR by group before and after."""
    whoosh_compat.install()
    parser = argparse.ArgumentParser(prog="python -m bench.rerank_train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="file to write (default: the shipped one)")
    parser.add_argument(
        "--vectors", type=Path, default=anchors.WORK_DIR, help="where passage vectors are kept between runs"
    )
    add_data_argument(parser)
    args = parser.parse_args(argv)
    data = data_or_exit(parser.prog, args.data, CALL_FILES + QUERY_FILES)
    if load_embedder(args.model, threads=1) is None:
        parser.error(f"the embedding model {args.model} is not installed")
    runs = tune_runs(data)
    with tempfile.TemporaryDirectory(prefix="kb-rerank-") as workdir:
        kb_folder = build_knowledge_base(data, workdir, args.model, args.vectors)
        log(f"recording the candidates of {len(runs)} tune query texts")
        queries = collect(runs, kb_folder, args.model, max(1, args.jobs))
    mean, scale = standardisation(queries)
    penalty, by_penalty = choose_penalty(queries, mean, scale)
    log(f"cross-validated mean MRR by penalty: {by_penalty}; chosen {penalty}")
    weights = fit_weights(queries, mean, scale, penalty)
    fusion = [rerank.FEATURES.index("words_rank"), rerank.FEATURES.index("meaning_rank")]
    before = mean_rr_by_group(queries, lambda matrix: matrix[:, fusion].sum(axis=1))
    model = rerank.LinearReranker(weights, mean, scale)
    after = mean_rr_by_group(queries, model.scores)
    print(_table(before, after))
    model.about = {
        "fitted": date.today().isoformat(),
        "command": "python -m bench.rerank_train",
        "training": f"{len(queries)} tune query texts of bench.relevance's sets and variants",
        "penalty": penalty,
        "tune_mrr_rrf": {group: round(value, 4) for group, value in before.items()},
        "tune_mrr_reranker": {group: round(value, 4) for group, value in after.items()},
    }
    out = args.out or rerank.model_path(args.model)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The product's search passes against Whoosh's own searcher and scorer, answer for answer, on one knowledge base.

For each agent query the product plans and shapes the search as the server does (typo, sound-alike
and synonym alternatives on) and evaluates both of its passes (every word, then any word) over the
posting arrays. The same trees are ranked by the reference (``bench.whoosh_reference``): Whoosh's
stock ``BM25F`` scorer through Whoosh's own matchers, combined per call by the documented rules, and,
for trees without a word's alternatives, Whoosh's own ``Searcher.search`` with its stock queries.
The top hits must be the same calls in the same order with the same scores to 3 decimals; every
difference is listed. CPU time per pass (``time.thread_time``) is reported for both.

    python -m bench.speed --n 100000 --workdir /tmp/kb100k     # once, to keep a knowledge base
    python -m bench.against_whoosh /tmp/kb100k/kb                # then, as often as needed
"""

import argparse
import itertools
import sys
import time
from pathlib import Path

from bench import synthetic
from bench.data import WORD_LIST_FILES, add_data_argument, optional_data_or_exit
from bench.report import format_table, latency_summary
from bench.whoosh_reference import Untranslatable, reference_top, whoosh_search
from engine.evaluate import evaluate
from engine.query import BestOf
from engine.service import SearchService
from engine.shape import TRIM_COMMON_UP_TO, build_query, query_shape
from engine.sources import SynonymsFile
from engine.vocabulary import VocabularyCache
from index import whoosh_compat
from indexer.context import open_knowledge_base

RECORDS_FOR_QUERIES = 3000
TOP = 10


def _rounded(hits):
    return [(docnum, round(score, 3)) for score, docnum in sorted(hits, key=lambda hit: (-round(hit[0], 6), hit[1]))]


def _has_alternatives(tree):
    if isinstance(tree, BestOf) and len(tree.options) > 1:
        return True
    children = [*getattr(tree, "words", ()), *getattr(tree, "finding", ()), *getattr(tree, "scoring", ())]
    return any(_has_alternatives(child) for child in children)


def compare(data_folder, query_count, seed=synthetic.DEFAULT_SEED, data_dir=None):
    """Rank ``query_count`` agent queries' passes with the product and with the reference.

    :param data_folder: a knowledge base's ``KB_DATA_DIR``.
    :param data_dir: the benchmark data folder whose word lists misspell the queries, or None (``bench.synthetic``).
    :returns: ``{"passes", "with_alternatives", "searched_by_whoosh", "differing": [...], "product": summary,
        "reference": summary}``.
    """
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""})
    records = list(itertools.islice(kb.store.iter_records(), RECORDS_FOR_QUERIES))
    queries = [text for _, text in synthetic.agent_queries(records, query_count, seed, data_dir)]
    service = SearchService(kb.home, VocabularyCache(), SynonymsFile(), result_cache_size=0)
    index = kb.home.open_index()
    seconds = {"product": [], "reference": []}
    found = {"passes": 0, "with_alternatives": 0, "searched_by_whoosh": 0, "differing": []}
    try:
        opened = service.opened()
        for text in queries:
            plan = service.plan(text, opened)
            shape = query_shape(plan, opened.stats, short=len(plan.words) <= TRIM_COMMON_UP_TO)
            for require_all in (True, False):
                tree = build_query(plan, require_all, shape)
                started = time.thread_time()
                ours = evaluate(opened.searcher, opened.stats, service.postings, tree, (), TOP, float("inf"))
                seconds["product"].append(time.thread_time() - started)
                started = time.thread_time()
                expected = reference_top(index, tree, limit=TOP)
                seconds["reference"].append(time.thread_time() - started)
                found["passes"] += 1
                found["with_alternatives"] += _has_alternatives(tree)
                if _rounded(ours.hits) != _rounded(expected):
                    found["differing"].append({"query": text, "every_word": require_all, "by": "reference scorer"})
                try:
                    searched = whoosh_search(index, tree, limit=TOP)
                except Untranslatable:
                    continue
                found["searched_by_whoosh"] += 1
                if _rounded(ours.hits) != _rounded(searched):
                    found["differing"].append({"query": text, "every_word": require_all, "by": "Whoosh's searcher"})
    finally:
        service.close()
        kb.close()
    return {**found, **{name: latency_summary(values) for name, values in seconds.items()}}


def main(argv=None):
    """Run the comparison from the command line; returns the exit status (1 when any answer differs)."""
    parser = argparse.ArgumentParser(prog="python -m bench.against_whoosh", description=__doc__.split("\n\n")[0])
    parser.add_argument("data_folder", type=Path, help="a knowledge base's KB_DATA_DIR (calls.db and index/)")
    parser.add_argument("--queries", type=int, default=300, help="agent queries (default 300)")
    add_data_argument(parser, fallback="misspellings that swap two letters")
    args = parser.parse_args(argv)
    if not (args.data_folder / "index").is_dir():
        parser.error(f"{args.data_folder} holds no index/ folder: give the KB_DATA_DIR of a built knowledge base")
    data = optional_data_or_exit(parser.prog, args.data, WORD_LIST_FILES)
    whoosh_compat.install()
    found = compare(args.data_folder, args.queries, data_dir=data)
    columns = [("path", "pass, CPU ms"), ("n", "n"), ("mean_ms", "mean"), ("p50_ms", "p50"), ("p95_ms", "p95")]
    print(format_table(columns, [{"path": name, **found[name]} for name in ("reference", "product")]))
    print(
        f"{found['passes']} passes of {args.queries} queries ({found['with_alternatives']} with a word's "
        f"alternatives); {found['searched_by_whoosh']} also through Whoosh's own searcher"
    )
    print(f"top {TOP} differing (ids, order or score to 3 decimals): {len(found['differing'])}")
    for difference in found["differing"][:10]:
        print(f"  {difference}")
    return 1 if found["differing"] else 0


if __name__ == "__main__":
    sys.exit(main())

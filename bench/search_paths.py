"""The two ways a search pass can run, side by side on one knowledge base: posting arrays and Whoosh's matchers.

``SearchService(use_arrays=False)`` runs every pass through Whoosh's matchers (``app.conjunction``,
``app.disjunction``, ``app.collectors``); the default evaluates it over posting arrays
(``app.array_search``). Both search the same agent queries, in alternating order, after the same
warm-up; each search's CPU time (``time.thread_time``) is recorded, so the other process on a busy
machine does not count. Their answers are compared too: any difference is reported.

    python -m bench.speed --n 100000 --workdir /tmp/kb100k     # once, to keep a knowledge base
    python -m bench.search_paths /tmp/kb100k/kb                  # then, as often as needed
"""

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

from app.search import SearchService
from app.services import OutcomesFromFeedback, SynonymsFile
from app.vocabulary import VocabularyCache
from bench import synthetic
from bench.report import format_table, latency_summary
from indexer.context import open_knowledge_base

RECORDS_FOR_QUERIES = 3000
WARMUP_QUERIES = 100


def compare(data_folder, query_count, facets, seed=synthetic.DEFAULT_SEED):
    """Time both paths on the same queries.

    :param data_folder: a knowledge base's ``KB_DATA_DIR``.
    :param query_count: how many agent queries to time.
    :param facets: whether to ask for facet counts, as the agents' page does.
    :returns: ``{"arrays": summary, "matchers": summary, "differing": [query, ...], "held_mb": float}``.
    """
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""})
    records = list(itertools.islice(kb.store.iter_records(), RECORDS_FOR_QUERIES))
    queries = [text for _, text in synthetic.agent_queries(records, WARMUP_QUERIES + query_count, seed)]
    warmup, timed = queries[:WARMUP_QUERIES], queries[WARMUP_QUERIES:]
    vocabulary = VocabularyCache()
    services = {
        name: SearchService(
            kb.home,
            vocabulary,
            SynonymsFile(),
            time_limit_ms=60_000,
            outcomes_source=OutcomesFromFeedback(kb.store),
            result_cache_size=0,
            use_arrays=name == "arrays",
        )
        for name in ("arrays", "matchers")
    }
    seconds = {name: [] for name in services}
    differing = []
    try:
        for text in warmup:
            for service in services.values():
                service.search(text, facets=facets)
        for number, text in enumerate(timed):
            answers = {}
            for name in sorted(services, reverse=bool(number % 2)):
                started = time.thread_time()
                answers[name] = services[name].search(text, facets=facets)
                seconds[name].append(time.thread_time() - started)
            if replace(answers["arrays"], took_ms=0) != replace(answers["matchers"], took_ms=0):
                differing.append(text)
        held_mb = services["arrays"].postings.held_bytes / 1e6
    finally:
        for service in services.values():
            service.close()
        kb.close()
    summaries = {name: latency_summary(values) for name, values in seconds.items()}
    return {**summaries, "differing": differing, "held_mb": round(held_mb, 1)}


def main(argv=None):
    """Run the comparison from the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.search_paths", description=__doc__.split("\n\n")[0])
    parser.add_argument("data_folder", type=Path, help="a knowledge base's KB_DATA_DIR (calls.db and index/)")
    parser.add_argument("--queries", type=int, default=300, help="agent queries timed (default 300)")
    parser.add_argument("--facets", action="store_true", help="ask for facet counts, as the agents' page does")
    args = parser.parse_args(argv)
    if not (args.data_folder / "index").is_dir():
        parser.error(f"{args.data_folder} holds no index/ folder: give the KB_DATA_DIR of a built knowledge base")
    found = compare(args.data_folder, args.queries, args.facets)
    columns = [
        ("path", "path, CPU ms"),
        ("n", "n"),
        ("mean_ms", "mean"),
        ("p50_ms", "p50"),
        ("p95_ms", "p95"),
    ]
    print(format_table(columns, [{"path": name, **found[name]} for name in ("matchers", "arrays")]))
    ratio = found["arrays"]["mean_ms"] / found["matchers"]["mean_ms"]
    print(f"arrays / matchers, mean: {ratio:.3f}; posting arrays held: {found['held_mb']} MB")
    print(f"answers differing: {len(found['differing'])} of {args.queries}")
    for text in found["differing"][:10]:
        print(f"  {text!r}")
    return 1 if found["differing"] else 0


if __name__ == "__main__":
    sys.exit(main())

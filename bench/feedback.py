"""Does "this solved it" feedback help? ``python -m bench.feedback``.

Builds the knowledge base from the real corpora, then scores the product on the held-out
StackFAQ rephrasings and on queries whose calls get no feedback (GitBugs, Microsoft error
messages), first with no feedback, then after replaying "this solved it" for the training
split of the StackFAQ rephrasings (each training query marks its own thread as the one that
solved it). Both runs use the same index in the same process.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from app.services import Services
from bench.corpora import all_calls, gitbugs_queries, ms_error_queries, split_queries, stackfaq_queries
from bench.data import CALL_FILES, QUERY_FILES, add_data_argument, data_or_exit
from bench.relevance import build_product_kb, product_searcher, run_one, sample_queries
from bench.report import RESULTS_DIR, log
from engine.sources import OutcomesFromFeedback
from index import whoosh_compat
from settings import read_settings
from store.base import utc_now


def mean_rr(search, queries):
    """MRR@10 of a set of queries."""
    if not queries:
        return 0.0
    return sum(run_one(search, query.text, query)[0]["rr"] for query in queries) / len(queries)


def replay_feedback(store, queries):
    """Record each query's relevant call as the one that solved it."""
    for query in queries:
        for call_id in sorted(query.relevant_ids):
            store.add_feedback(call_id, query.text, "api", utc_now())


def run(data_dir, limit_queries=None, workdir=None):
    """Score the product before and after replaying training feedback.

    :param data_dir: the data folder with the real corpora and their queries.
    :returns: a dict of the MRR figures and query counts.
    """
    folder = Path(workdir or tempfile.mkdtemp(prefix="kb-feedback-")) / "kb"
    folder.mkdir(parents=True, exist_ok=True)
    kb, seconds = build_product_kb(all_calls(data_dir), folder)
    log(f"built the knowledge base in {seconds:.1f} s")
    train, held_out = split_queries(stackfaq_queries(data_dir))
    no_feedback = sample_queries(gitbugs_queries(data_dir) + ms_error_queries(data_dir), limit_queries)
    held_out = sample_queries(held_out, limit_queries)
    services = Services(read_settings(environ={"KB_DATA_DIR": str(folder)}), folder)
    search = product_searcher(services.search)
    before = {"held_out": mean_rr(search, held_out), "no_feedback": mean_rr(search, no_feedback)}
    log(f"without feedback: held-out MRR {before['held_out']:.3f}, no-feedback MRR {before['no_feedback']:.3f}")
    replay_feedback(services.store, train)
    services.search.outcomes_source = OutcomesFromFeedback(services.store)
    after = {"held_out": mean_rr(search, held_out), "no_feedback": mean_rr(search, no_feedback)}
    log(
        f"after {len(train)} feedback: held-out MRR {after['held_out']:.3f}, no-feedback MRR {after['no_feedback']:.3f}"
    )
    kb.close()
    return {
        "feedback_replayed": len(train),
        "held_out_queries": len(held_out),
        "no_feedback_queries": len(no_feedback),
        "before": before,
        "after": after,
    }


def main(argv=None):
    """Run, print one table and write JSON."""
    whoosh_compat.install()
    parser = argparse.ArgumentParser(prog="python -m bench.feedback", description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit-queries", type=int, default=None, metavar="N", help="queries per group at most")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "feedback.json", metavar="PATH")
    add_data_argument(parser)
    args = parser.parse_args(argv)
    result = run(data_or_exit(parser.prog, args.data, CALL_FILES + QUERY_FILES), args.limit_queries)
    print("| queries | n | MRR@10 without feedback | MRR@10 after replaying training feedback | ratio |")
    print("|---|---|---|---|---|")
    for key, label, count in (
        ("held_out", "StackFAQ held-out rephrasings (their threads got feedback)", result["held_out_queries"]),
        ("no_feedback", "GitBugs + MS error queries (no feedback on their calls)", result["no_feedback_queries"]),
    ):
        before, after = result["before"][key], result["after"][key]
        print(f"| {label} | {count} | {before:.3f} | {after:.3f} | {after / before if before else 0:.3f} |")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Searches a second over HTTP of an earlier commit and of this checkout, side by side in one run.

    .venv/bin/python -m bench.side_by_side --workdir /tmp/kb1m --before e7cefeb [--semantic] [--rounds 4]

This machine's speed moves by 15 % from one hour to the next, so comparing a benchmark's figure with one taken
earlier says little. This runs both versions on the same knowledge base, alternating: each round starts gunicorn
(2 workers) from a ``git worktree`` of ``--before`` and from this checkout, in turn (the order swapped every
round), warms each with 100 queries, then sends ``--requests`` queries new to that server from ``--clients``
clients at once. Every query is a fresh agent query (``bench.synthetic``), so no result cache answers it.

``--workdir`` is a folder an earlier ``python -m bench.speed --workdir DIR`` run left (its ``calls.jsonl`` and
``kb/``). When the two versions write their indexes differently (an index of a newer schema cannot be opened by
an earlier version, which rebuilds it), give the earlier one a copy of its own, rebuilt by it:
``--before-workdir``. Results go to ``bench/results/side_by_side.json``.
"""

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import speed, synthetic
from bench.data import add_data_argument, optional_data_or_exit
from bench.report import RESULTS_DIR, environment, log, write_json

WARMUP_QUERIES = 100
RECORDS_FOR_QUERIES = 100_000


def parse_args(argv):
    """The command line's options."""
    parser = argparse.ArgumentParser(prog="python -m bench.side_by_side", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="a folder bench.speed --workdir left (calls.jsonl, kb/)")
    parser.add_argument("--before", required=True, help="the earlier commit to compare this checkout with")
    parser.add_argument(
        "--before-workdir", help="the earlier commit's own copy of --workdir, its index rebuilt by that commit"
    )
    parser.add_argument("--semantic", action="store_true", help="rank by meaning too (the kb must hold vectors)")
    parser.add_argument("--rounds", type=int, default=4, help="servers of each version, alternating (default 4)")
    parser.add_argument("--requests", type=int, default=2000, help="queries per server (default 2000)")
    parser.add_argument("--clients", type=int, default=16, help="clients at once (default 16)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", default=str(RESULTS_DIR / "side_by_side.json"))
    add_data_argument(parser, fallback="sample/calls.jsonl alone")
    return parser.parse_args(argv)


def agent_queries(workdir, count, seed, data_dir):
    """``count`` agent queries drawn from the first calls of the knowledge base's ``calls.jsonl``."""
    with open(Path(workdir) / "calls.jsonl", encoding="utf-8") as calls:
        records = [json.loads(line) for line in itertools.islice(calls, RECORDS_FOR_QUERIES)]
    return synthetic.agent_queries(records, count, seed, data_dir)


def one_server(root, kb_folder, queries, semantic, clients):
    """Start gunicorn from ``root``, warm it up, load it with ``queries``; the ``http_load`` summary."""
    speed.ROOT = root
    server = speed.Server(kb_folder, workers=2, semantic=semantic)
    try:
        speed.http_load(server, queries[:WARMUP_QUERIES], 4, WARMUP_QUERIES, 60)
        timed = queries[WARMUP_QUERIES:]
        return speed.http_load(server, timed, clients, len(timed), 120)
    finally:
        server.stop()


def main(argv=None):
    """Run the rounds, print each server's figures, write the JSON."""
    args = parse_args(argv)
    data_dir = optional_data_or_exit("python -m bench.side_by_side", args.data, synthetic.needed_files())
    here = Path(__file__).resolve().parents[1]
    per_server = WARMUP_QUERIES + args.requests
    queries = agent_queries(args.workdir, per_server * args.rounds * 2, args.seed, data_dir)
    runs = []
    with tempfile.TemporaryDirectory(prefix="kb-before-") as scratch:
        before = Path(scratch) / "checkout"
        subprocess.run(["git", "-C", str(here), "worktree", "add", "--detach", str(before), args.before], check=True)
        try:
            for number in range(args.rounds * 2):
                round_number, second = divmod(number, 2)
                label = ("before", "after")[(round_number + second) % 2]
                root = before if label == "before" else here
                workdir = args.before_workdir if label == "before" and args.before_workdir else args.workdir
                batch = queries[number * per_server : (number + 1) * per_server]
                result = one_server(root, Path(workdir) / "kb", batch, args.semantic, args.clients)
                runs.append({"round": round_number, "version": label, **result})
                log(
                    f"round {round_number} {label}: {result['requests_per_s']} searches/s, "
                    f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, {result['errors']} errors"
                )
        finally:
            speed.ROOT = here
            subprocess.run(["git", "-C", str(here), "worktree", "remove", "--force", str(before)], check=False)
    for label in ("before", "after"):
        rates = sorted(run["requests_per_s"] for run in runs if run["version"] == label)
        log(f"{label} ({args.before if label == 'before' else 'this checkout'}): {rates} searches/s")
    summary = {
        "before": args.before,
        "before_workdir": args.before_workdir or args.workdir,
        "semantic": args.semantic,
        "clients": args.clients,
        "runs": runs,
    }
    write_json({**summary, "environment": environment()}, args.json)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())

"""Agents' writes and searches while ``python -m indexer import`` takes in N calls (issue #17).

    .venv/bin/python -m bench.write_during_import --n 100000

The server (gunicorn, 2 workers, over SQLite) holds ``--base`` calls; the command line then imports N more
synthetic calls (``bench.synthetic``, real sentences) in a subprocess. While it runs, one agent writes a new
call every ``--write-every`` seconds (``POST /api/v1/calls``) and ``--searchers`` clients search without a
pause (2–5-word agent queries over the calls already there). The run reports, for the import's whole length:
how long each write took to answer and whether it answered ``indexed: true``; how long after its answer each
write was found by a search; and search latency (p50, p95, max) and errors, beside the same searches before
the import. A write before issue #17 waited up to 30 s for the index writer, which the import holds.

Without the data folder (``--data``, default ``../shared/data``) the calls come from ``sample/calls.jsonl``
alone. Results go to ``bench/results/write_during_import.json``.
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import synthetic
from bench.data import add_data_argument, optional_data_or_exit
from bench.report import RESULTS_DIR, environment, format_table, latency_summary, log, write_json
from bench.speed import WRITE_KEY, Server, import_with_cli, request, search_path
from index import whoosh_compat

AUTH = {"Authorization": f"Bearer {WRITE_KEY}"}
BEFORE_SECONDS = 10.0
AFTER_SECONDS = 5.0
# After the last write, how long the watcher keeps searching for writes not found yet.
FOUND_WITHIN_S = 180.0
# Consonant-only made-up words: the analyzers keep them whole, so each names the one call written with it.
_LETTERS = "bcdfghjklmnpqrstvwxz"


def made_up_word(number):
    """A word only the ``number``-th agent write holds."""
    letters = []
    for _ in range(5):
        number, digit = divmod(number, len(_LETTERS))
        letters.append(_LETTERS[digit])
    return "qz" + "".join(letters)


class Searchers:
    """Clients searching without a pause, each on its own keep-alive connection; every answer timed."""

    def __init__(self, server, queries, clients):
        self.server, self.queries = server, queries
        self.answers = []  # (started, seconds, status)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(clients)]

    def start(self):
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def _run(self, client):
        connection, turn = self.server.connection(), client
        while not self._stop.is_set():
            _, text = self.queries[turn % len(self.queries)]
            turn += len(self._threads)
            started = time.perf_counter()
            try:
                status, body = request(connection, "GET", search_path(text))
                why = "" if status == 200 else f"{status} {(body or {}).get('error', body)}"
            except OSError as error:
                connection.close()
                status, why, connection = 0, repr(error), self.server.connection()
            self.answers.append((started, time.perf_counter() - started, status, why))
        connection.close()

    def between(self, start, end):
        """The answers to searches sent between two ``perf_counter`` times."""
        return [answer for answer in self.answers if start <= answer[0] < end]


class Agent:
    """One agent writing a new call every ``interval`` seconds; then, for each, when a search first found it."""

    def __init__(self, server, interval):
        self.server, self.interval = server, interval
        self.writes = []  # dicts: number, started, seconds, status, indexed, found_after
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    def start(self):
        self._thread.start()
        self._watcher.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(60)
        self._watcher.join(FOUND_WITHIN_S + 60)

    def done(self):
        """Whether every write was found, or given up on ``FOUND_WITHIN_S`` after the agent stopped."""
        return self._stop.is_set() and all("found_after" in write for write in self.writes)

    def _run(self):
        connection, number = self.server.connection(), 0
        while not self._stop.is_set():
            body = {"id": f"AGENT-{number:05d}", "title": f"Docking station {made_up_word(number)} flickers"}
            started = time.perf_counter()
            status, answer = request(connection, "POST", "/api/v1/calls", body, AUTH)
            seconds = time.perf_counter() - started
            indexed = bool(answer and answer.get("indexed"))
            self.writes.append(
                {"number": number, "started": started, "seconds": seconds, "status": status, "indexed": indexed}
            )
            number += 1
            self._stop.wait(max(0.0, self.interval - seconds))
        connection.close()

    def _watch(self):
        """Search for each write's word until found (the write's ``found_after``, seconds after its answer)."""
        connection, stopped = self.server.connection(), None
        while not self.done():
            if stopped is None and self._stop.is_set():
                stopped = time.perf_counter()
            for write in [w for w in self.writes if "found_after" not in w]:
                answered = write["started"] + write["seconds"]
                _, body = request(connection, "GET", search_path(made_up_word(write["number"]), 5))
                if any(hit["id"] == f"AGENT-{write['number']:05d}" for hit in (body or {}).get("results", [])):
                    write["found_after"] = time.perf_counter() - answered
                elif stopped is not None and time.perf_counter() - stopped > FOUND_WITHIN_S:
                    write["found_after"] = None
            time.sleep(0.05)
        connection.close()


def watch_store(server, calls, started, seen):
    """Note in ``seen["stored_at_s"]`` when the store first holds ``calls`` calls (the import's commit)."""
    connection = server.connection()
    while "stored_at_s" not in seen and not seen.get("stop"):
        _, body = request(connection, "GET", "/healthz")
        if (body or {}).get("store", {}).get("calls", 0) >= calls:
            seen["stored_at_s"] = round(time.perf_counter() - started, 2)
        time.sleep(0.1)
    connection.close()


def search_figures(answers):
    """Latency summary of searches, with the slowest and the count of non-200 answers."""
    seconds = [answer[1] for answer in answers]
    return {
        **latency_summary(seconds),
        "max_ms": round(max(seconds, default=0) * 1000, 1),
        "errors": sum(1 for answer in answers if answer[2] != 200),
        "error_answers": sorted({answer[3] for answer in answers if answer[2] != 200}),
    }


def write_figures(writes, import_started):
    """Latency of the writes, how many answered indexed: true, how long the others took to be found, and the
    slowest writes with when they were sent (seconds into the import)."""
    late = [w["found_after"] for w in writes if not w["indexed"]]
    slowest = sorted(writes, key=lambda w: -w["seconds"])[:5]
    return {
        **latency_summary([w["seconds"] for w in writes]),
        "max_ms": round(max((w["seconds"] for w in writes), default=0) * 1000, 1),
        "errors": sum(1 for w in writes if w["status"] != 201),
        "indexed_true": sum(1 for w in writes if w["indexed"]),
        "indexed_false": len(late),
        "never_found": sum(1 for after in late if after is None),
        "found_after_max_s": round(max((after for after in late if after is not None), default=0.0), 2),
        "slowest": [
            {"sent_at_s": round(w["started"] - import_started, 2), "ms": round(w["seconds"] * 1000, 1)} for w in slowest
        ],
    }


def run(n, base, searchers, write_every, workdir, data, seed):
    """Build the base, start the server, import N calls while an agent writes and clients search.

    :returns: the results as a dict.
    """
    records = synthetic.write_calls(base, workdir / "base.jsonl", seed, data)
    synthetic.write_calls(n, workdir / "import.jsonl", seed + 1, data)
    # The import's ids would collide with the base's (both count from 1): give them their own.
    imported = (workdir / "import.jsonl").read_text(encoding="utf-8").replace('"id": "SYN-', '"id": "IMP-')
    (workdir / "import.jsonl").write_text(imported, encoding="utf-8")
    queries = synthetic.agent_queries(records, 300, seed, data)
    folder = workdir / "kb"
    log(f"base: {import_with_cli(workdir / 'base.jsonl', folder)['output']}")
    server = Server(folder, workers=2)
    try:
        searching = Searchers(server, queries, searchers).start()
        time.sleep(BEFORE_SECONDS)
        agent = Agent(server, write_every).start()
        log(f"importing {n:,} calls while an agent writes every {write_every:g} s and {searchers} clients search")
        started, seen = time.perf_counter(), {}
        watcher = threading.Thread(target=watch_store, args=(server, base + n, started, seen), daemon=True)
        watcher.start()
        outcome = import_with_cli(workdir / "import.jsonl", folder)
        ended = time.perf_counter()
        seen["stop"] = True
        log(f"import: {outcome['output']}")
        time.sleep(AFTER_SECONDS)
        agent.stop()
        searching.stop()
    finally:
        server.stop()
    during = [w for w in agent.writes if started <= w["started"] < ended]
    return {
        "environment": {**environment(), "load_average_1min_at_end": round(os.getloadavg()[0], 2)},
        "n": n,
        "base": base,
        "import": {
            "seconds": round(ended - started, 1),
            "store_committed_at_s": seen.get("stored_at_s"),
            "output": outcome["output"],
        },
        "writes_during_import": write_figures(during, started),
        "searches_before_import": search_figures(searching.between(started - BEFORE_SECONDS, started)),
        "searches_during_import": search_figures(searching.between(started, ended)),
    }


def table(results):
    """The results as one table and the lines that explain it."""
    w, run = results["writes_during_import"], results["import"]
    rows = [
        {"what": "writes during the import", **w},
        {"what": "searches before the import", **results["searches_before_import"]},
        {"what": "searches during the import", **results["searches_during_import"]},
    ]
    columns = [("what", ""), ("n", "n"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"), ("max_ms", "max ms")]
    slowest = ", ".join(f"{slow['ms']} ms at {slow['sent_at_s']} s" for slow in w["slowest"])
    return "\n".join(
        [
            format_table([*columns, ("errors", "errors")], rows),
            f"import of {results['n']:,} calls into {results['base']:,}: {run['seconds']} s ({run['output']}); "
            f"its store transaction committed {run['store_committed_at_s']} s into it",
            f"writes answered indexed: true {w['indexed_true']}, false {w['indexed_false']} (found by a search "
            f"at most {w['found_after_max_s']} s after their answer; never found: {w['never_found']})",
            f"slowest writes (sent that many seconds into the import): {slowest}",
            f"load average at the end: {results['environment']['load_average_1min_at_end']} "
            f"({results['environment']['cpus']} CPUs)",
        ]
    )


def main(argv=None):
    """Run the benchmark from the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.write_during_import", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="calls the import takes in (default 100000)")
    parser.add_argument("--base", type=int, default=5_000, help="calls in the store before (default 5000)")
    parser.add_argument("--searchers", type=int, default=2, help="clients searching without a pause (default 2)")
    parser.add_argument("--write-every", type=float, default=0.5, help="seconds between the agent's writes")
    parser.add_argument("--seed", type=int, default=synthetic.DEFAULT_SEED)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the data here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "write_during_import.json")
    add_data_argument(parser, fallback="sample/calls.jsonl alone")
    args = parser.parse_args(argv)
    data = optional_data_or_exit(parser.prog, args.data, synthetic.needed_files())
    whoosh_compat.install()
    with tempfile.TemporaryDirectory(prefix="kb-write-during-import-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(args.n, args.base, args.searchers, args.write_every, workdir, data, args.seed)
    print(table(results))
    write_json(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed benchmark (issue #5): import throughput, index size, search latency, HTTP load, freshness.

On a deterministic synthetic knowledge base of N calls (``bench.synthetic``; from ``sample/calls.jsonl``
alone, or with the real corpora's sentences too when a data folder is given with ``--data``), in one run:

1. import throughput through the real CLI (``python -m indexer import FILE`` in a
   subprocess), and the size of the store and the index on disk;
2. search latency in-process with every analysis feature on (``SearchService`` as the
   server builds it, warm), next to plain Whoosh BM25 and SQLite FTS5 on the same calls
   and the same agent queries (``bench.baselines``);
3. the real server under gunicorn (2 workers) over loopback: throughput and latency with
   1, 4 and 16 keep-alive clients, and RSS per worker;
4. freshness: how long after ``POST /api/v1/calls`` returns a search finds the new call,
   while another client keeps searching.

Run ``python -m bench.speed`` (N = 10,000, about 3 minutes) or ``--n 100000``.
"""

import argparse
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench import synthetic
from bench.baselines import Fts5Baseline, WhooshBaseline
from bench.data import add_data_argument, optional_data_or_exit
from bench.report import RESULTS_DIR, environment, format_table, latency_summary, log, ratio, write_json
from engine.embedding import DEFAULT_MODEL, load_embedder
from engine.semantic import SemanticStage
from engine.service import SearchService
from engine.sources import OutcomesFromFeedback, SynonymsFile
from engine.vocabulary import VocabularyCache
from index import whoosh_compat
from indexer.context import open_knowledge_base
from settings import SETTINGS_BY_NAME

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
WRITE_KEY = "bench-write-key"
WARMUP_QUERIES = 20
SERVER_START_TIMEOUT_S = 600


def folder_bytes(path):
    """The total size of the files under ``path``."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def _mb(size):
    return round(size / 1e6, 1)


def import_with_cli(jsonl, data_folder):
    """Import a JSON Lines file with ``python -m indexer import`` in a fresh process.

    :returns: ``{"seconds", "output", "store_mb", "index_mb"}``.
    :raises RuntimeError: when the command fails.
    """
    env = {**os.environ, "KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "indexer", "import", str(jsonl)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time of the CLI and its indexing processes: a fairer figure than wall time on a busy machine.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"indexer import failed ({done.returncode}): {done.stderr[-2000:]}")
    index_dir = data_folder / "index" / (data_folder / "index" / "CURRENT").read_text().strip()
    store = sum(folder_bytes(p) for p in data_folder.glob("calls.db*"))
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "output": done.stdout.strip(),
        "store_mb": _mb(store),
        "index_mb": _mb(folder_bytes(index_dir)),
    }


def embed_with_cli(data_folder, procs=2):
    """Give every call its passage vector with ``python -m indexer embed --procs N`` in a fresh process.

    :returns: ``{"seconds", "cpu_seconds", "passages", "per_s", "output"}``.
    :raises RuntimeError: when the command fails.
    """
    env = {**os.environ, "KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": "", "KB_SEMANTIC": "true"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "indexer", "embed", "--procs", str(procs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"indexer embed failed ({done.returncode}): {done.stderr[-2000:]}")
    passages = int(done.stdout.split()[1])
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1),
        "passages": passages,
        "per_s": round(passages / seconds, 1) if passages else None,
        "procs": procs,
        "output": done.stdout.strip(),
    }


def embedded(workdir, data_folder, n):
    """The embedding of an earlier run kept in ``workdir/embed.json``, or a new one (written there)."""
    kept = workdir / "embed.json"
    if kept.exists() and json.loads(kept.read_text()).get("n") == n:
        previous = json.loads(kept.read_text())
        check = embed_with_cli(data_folder)  # nothing left to embed, or what was missing
        previous["reused"] = check["passages"] == 0
        return previous
    result = {"n": n, **embed_with_cli(data_folder)}
    kept.write_text(json.dumps(result))
    return result


def reused_import(data_folder):
    """What the results say of the import when an earlier run's knowledge base is searched again."""
    index_dir = data_folder / "index" / (data_folder / "index" / "CURRENT").read_text().strip()
    store = sum(folder_bytes(p) for p in data_folder.glob("calls.db*"))
    return {
        "reused": True,
        "seconds": None,
        "cpu_seconds": None,
        "calls_per_s": None,
        "output": "reused",
        "store_mb": _mb(store),
        "index_mb": _mb(folder_bytes(index_dir)),
    }


def time_queries(search, queries, warmup=None):
    """Run ``search(text)`` for each query after a warm-up; returns the seconds of each.

    :param warmup: the queries to warm up with (default: the first ``WARMUP_QUERIES`` of ``queries``).
    """
    for _, text in queries[:WARMUP_QUERIES] if warmup is None else warmup:
        search(text)
    seconds = []
    for _, text in queries:
        started = time.perf_counter()
        search(text)
        seconds.append(time.perf_counter() - started)
    return seconds


def product_in_process(data_folder, queries, warmup, embedder=None):
    """Latency of ``SearchService.search`` with every analysis feature on, as the server runs it.

    With ``embedder`` (a loaded ``engine.embedding`` model) the service ranks by meaning too, each service
    with a query vector cache of its own: every timed query is embedded once, as a new query would be.

    Every timed query is new to the service (its result cache is off, and the warm-up queries are
    others), so this is the cost of really searching. The cache is measured apart: the same
    queries asked a second time with it on. So are facet counts, as the agents' page asks for
    them: the same queries on a service of their own, warmed up the same way.

    :returns: ``{"all": summary, "clean"/"typo"/"british": summary, "timed_out": count,
        "repeated": summary, "facets": summary}``.
    """
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""})

    def service(cache_size):
        stage = None
        if embedder is not None:
            stage = SemanticStage(kb.home.root, embedder.name.split("/", 1)[0])
            stage.use(embedder)
        return SearchService(
            kb.home,
            VocabularyCache(),
            SynonymsFile(),
            time_limit_ms=SETTINGS_BY_NAME["KB_SEARCH_TIME_LIMIT_MS"].default,
            outcomes_source=OutcomesFromFeedback(kb.store),
            result_cache_size=cache_size,
            semantic=stage,
        )

    uncached, cached = service(0), service(SETTINGS_BY_NAME["KB_RESULT_CACHE_SIZE"].default)
    faceted = service(0)
    timed_out, scored = [], []

    def search(text):
        result = uncached.search(text)
        timed_out.append(result.timed_out)
        scored.append((result.postings_scored, result.postings_total))

    try:
        seconds = time_queries(search, queries, warmup)
        for _, text in queries:
            cached.search(text)
        repeated = time_queries(lambda text: cached.search(text), queries, warmup=())
        with_facets = time_queries(lambda text: faceted.search(text, facets=True), queries, warmup)
    finally:
        uncached.close()
        cached.close()
        faceted.close()
        kb.close()
    timed = scored[len(warmup) :]
    result = {
        "all": latency_summary(seconds),
        "timed_out": sum(timed_out[len(warmup) :]),
        # Of the postings of every term the timed queries used, the share their passes scored or looked up.
        "postings_scored_share": round(sum(s for s, _ in timed) / max(1, sum(t for _, t in timed)), 4),
        "repeated": latency_summary(repeated),
        "facets": latency_summary(with_facets),
    }
    for kind in ("clean", "typo", "british"):
        result[kind] = latency_summary([s for s, (k, _) in zip(seconds, queries) if k == kind])
    return result


def baseline_runs(records, workdir, queries, warmup):
    """Build the Whoosh and FTS5 baselines over ``records`` and time the same queries.

    :returns: name → ``{"build_seconds", "calls_per_s", "size_mb", "latency"}``.
    """
    results = {}
    for baseline in (WhooshBaseline(workdir / "whoosh"), Fts5Baseline(workdir / "fts5.db")):
        started = time.perf_counter()
        baseline.build(records)
        seconds = time.perf_counter() - started
        latency = latency_summary(time_queries(lambda text, b=baseline: b.search(text, 10), queries, warmup))
        baseline.close()
        results[baseline.name] = {
            "build_seconds": round(seconds, 2),
            "calls_per_s": round(len(records) / seconds),
            "size_mb": _mb(folder_bytes(baseline.path if baseline.name == "fts5" else baseline.folder)),
            "latency": latency,
        }
        log(f"{baseline.name} baseline: built in {seconds:.1f} s, p95 {latency['p95_ms']} ms")
    return results


class Server:
    """The real app under gunicorn on a free loopback port; stop it with :meth:`stop`."""

    def __init__(self, data_folder, workers=2, semantic=False):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "KB_DATA_DIR": str(data_folder),
            "KB_DATABASE_URL": "",
            "KB_API_KEYS": WRITE_KEY,
            "KB_SEARCH_KEY_REQUIRED": "false",
            "KB_LOAD_SAMPLE": "false",
            "WEB_CONCURRENCY": str(workers),
            # The benchmark measures capacity, so the per-address rate limit is off.
            "KB_RATE_LIMIT": "",
            # Ranking by meaning as asked; the backlog is embedded before the server starts, not during the load.
            "KB_SEMANTIC": "true" if semantic else "false",
            "KB_EMBED_IN_SERVER": "false",
        }
        self.log_file = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(workers)

    def _wait_ready(self, workers):
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: {self.output()}")
            connection = self.connection()
            try:
                status, _ = request(connection, "GET", "/healthz")
                if status == 200 and len(self.worker_pids()) == workers:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz in {SERVER_START_TIMEOUT_S} s: {self.output()}")

    def output(self):
        """The server's log so far (the last 2,000 characters)."""
        self.log_file.seek(0)
        return self.log_file.read().decode("utf-8", "replace")[-2000:]

    def connection(self):
        """A new keep-alive connection to the server."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def worker_pids(self):
        """The pids of the gunicorn workers (children of the master)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def worker_memory_mb(self, field="VmRSS"):
        """Memory of each worker, in MB, from ``/proc/<pid>/status``.

        :param field: ``VmRSS`` (resident, including index pages mapped from the file cache and
            shared by every worker) or ``RssAnon`` (the worker's own memory).
        """
        sizes = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(f"{field}:"):
                        sizes[pid] = round(int(line.split()[1]) / 1024, 1)
            except OSError:
                continue
        return sizes

    def stop(self):
        """Stop gunicorn (SIGTERM to the master, which stops its workers)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


def request(connection, method, path, body=None, headers=None):
    """Send one request on ``connection``; returns ``(status, parsed JSON body)``."""
    payload = None if body is None else json.dumps(body).encode("utf-8")
    all_headers = {"Content-Type": "application/json"} if payload is not None else {}
    connection.request(method, path, body=payload, headers={**all_headers, **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    return response.status, json.loads(data) if data else None


def search_path(text, limit=10):
    """The API path of a search."""
    return "/api/v1/search?" + urllib.parse.urlencode({"q": text, "limit": limit})


def http_load(server, queries, clients, max_requests, max_seconds):
    """Run ``clients`` threads, each on its own keep-alive connection, through the query list.

    Stops after ``max_requests`` requests in all or ``max_seconds``, whichever comes first.

    :returns: a latency summary plus ``clients``, ``requests_per_s``, ``errors``, ``seconds``.
    """
    lock, counter, latencies, errors = threading.Lock(), [0], [], []
    deadline = time.perf_counter() + max_seconds

    def client():
        connection = server.connection()
        while time.perf_counter() < deadline:
            with lock:
                number = counter[0]
                if number >= max_requests:
                    break
                counter[0] += 1
            _, text = queries[number % len(queries)]
            started = time.perf_counter()
            try:
                status, _ = request(connection, "GET", search_path(text))
            except (OSError, http.client.HTTPException) as error:
                errors.append(repr(error))
                connection.close()
                connection = server.connection()
                continue
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                if status != 200:
                    errors.append(f"HTTP {status}")
        connection.close()

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        **latency_summary(latencies),
        "clients": clients,
        "seconds": round(seconds, 2),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def freshness(server, queries, writes, max_wait_s=10.0):
    """How long after a write returns a search finds the new call, while another client searches.

    Each write is a call with a word of its own; the gap is measured from the write's
    response to the first search response listing the call.

    :returns: summaries of the write latency and the gap, and how many were found on the first search.
    """
    stop = threading.Event()

    def background():
        connection, number = server.connection(), 0
        while not stop.is_set():
            request(connection, "GET", search_path(queries[number % len(queries)][1]))
            number += 1
        connection.close()

    searcher = threading.Thread(target=background, name="background-searches")
    searcher.start()
    writer, reader = server.connection(), server.connection()
    auth = {"Authorization": f"Bearer {WRITE_KEY}"}
    write_seconds, gaps, first_try, missing = [], [], 0, 0
    run_tag = f"{os.getpid()}{int(time.time())}"
    try:
        for number in range(writes):
            word = f"freshq{run_tag}x{number}"
            call = {
                "id": f"FRESH-{run_tag}-{number}",
                "title": f"Headset {word} drops calls",
                "problem": f"The {word} headset drops every call after a minute.",
                "resolution": "Updated the dongle firmware.",
            }
            started = time.perf_counter()
            status, body = request(writer, "POST", "/api/v1/calls", call, auth)
            returned = time.perf_counter()
            if status not in (200, 201):
                raise RuntimeError(f"POST /api/v1/calls answered {status}: {body}")
            write_seconds.append(returned - started)
            tries = 0
            while True:
                tries += 1
                _, found = request(reader, "GET", search_path(word, 5))
                if any(hit["id"] == call["id"] for hit in found["results"]):
                    gaps.append(time.perf_counter() - returned)
                    first_try += tries == 1
                    break
                if time.perf_counter() - returned > max_wait_s:
                    missing += 1
                    break
    finally:
        stop.set()
        searcher.join()
        writer.close()
        reader.close()
    return {
        "writes": writes,
        "write": latency_summary(write_seconds),
        "gap": latency_summary(gaps),
        "found_on_first_search": first_try,
        "not_found_within_s": missing,
        "max_wait_s": max_wait_s,
    }


def run(
    n,
    workdir,
    seed=synthetic.DEFAULT_SEED,
    query_count=300,
    concurrency=(1, 4, 16),
    http_requests=400,
    http_seconds=20.0,
    writes=50,
    baselines=True,
    data_dir=None,
    reuse=False,
    semantic=False,
):
    """The whole benchmark over ``n`` synthetic calls in ``workdir``.

    :param semantic: also measure ranking by meaning, in the same run: every call embedded (timed: the backlog
        rate), in-process latency and the HTTP load with the stage on, beside the same with it off.

    :param reuse: search the knowledge base an earlier run left in ``workdir/kb`` (same ``n``, seed and data)
        instead of importing the calls again; the import is then not measured.
    :param baselines: also build and time plain Whoosh and SQLite FTS5 (at 1,000,000 calls the
        Whoosh baseline alone takes a quarter of an hour).
    :param data_dir: the data folder whose real corpora and word lists the calls and queries draw on,
        or None for ``sample/calls.jsonl`` alone.

    :returns: the results as a JSON-ready dict.
    """
    jsonl = workdir / "calls.jsonl"
    started = time.perf_counter()
    log(synthetic.describe_sources(data_dir))
    data_folder = workdir / "kb"
    reusing = reuse and (data_folder / "index").is_dir()
    if reusing:
        records = list(synthetic.generate_calls(n, seed, data_dir))
    else:
        records = synthetic.write_calls(n, jsonl, seed, data_dir)
    queries = synthetic.agent_queries(records, query_count, seed, data_dir)
    # Warm-up and HTTP queries are drawn apart, so no timed search repeats one asked before (each
    # concurrency level gets its own slice): the server's result cache answers only what a real
    # repeat would.
    others = synthetic.agent_queries(records, WARMUP_QUERIES + http_requests * len(concurrency), seed + 1, data_dir)
    warmup, http_queries = others[:WARMUP_QUERIES], others[WARMUP_QUERIES:]
    log(f"generated {n} calls and {len(queries) + len(others)} queries in {time.perf_counter() - started:.1f} s")
    if reusing:
        imported = reused_import(data_folder)
        log(f"searching the knowledge base already in {data_folder} (import not measured)")
    else:
        imported = import_with_cli(jsonl, data_folder)
        imported["calls_per_s"] = round(n / imported["seconds"])
        log(f"imported with the CLI: {imported['output']} ({imported['calls_per_s']} calls/s)")
    embedding, product_semantic, http_semantic = None, None, None
    if semantic:
        embedding = embedded(workdir, data_folder, n)
        log(f"embedded: {embedding['output']}")
    product = product_in_process(data_folder, queries, warmup)
    log(f"product in-process: p95 {product['all']['p95_ms']} ms")
    if semantic:
        product_semantic = product_in_process(data_folder, queries, warmup, load_embedder(DEFAULT_MODEL, threads=1))
        log(f"product in-process, ranking by meaning: p95 {product_semantic['all']['p95_ms']} ms")
    baselines = baseline_runs(records, workdir, queries, warmup) if baselines else {}
    del records
    served = serve_load(data_folder, concurrency, http_queries, http_requests, http_seconds, queries, writes)
    if semantic:
        http_semantic = serve_load(data_folder, concurrency, http_queries, http_requests, http_seconds, (), 0, True)
    load, rss_idle, rss_loaded, own_loaded, fresh = served
    return {
        "n": n,
        "seed": seed,
        "sources": synthetic.describe_sources(data_dir),
        "queries": len(queries),
        "query_kinds": {k: sum(1 for kind, _ in queries if kind == k) for k in ("clean", "typo", "british")},
        "import": imported,
        "product": product,
        "baselines": baselines,
        "http": load,
        "worker_rss_mb": {"idle": rss_idle, "after_load": rss_loaded},
        "worker_own_mb": {"after_load": own_loaded},
        "freshness": fresh,
        "embedding": embedding,
        "product_semantic": product_semantic,
        "http_semantic": http_semantic,
    }


def serve_load(data_folder, concurrency, http_queries, http_requests, http_seconds, queries, writes, semantic=False):
    """Start gunicorn over ``data_folder``, run the HTTP load at each concurrency level, then the freshness test.

    :returns: ``(load per level, RSS idle, RSS after load, own RSS after load, freshness or None)``.
    """
    server = Server(data_folder, semantic=semantic)
    label = ", ranking by meaning" if semantic else ""
    try:
        log(f"gunicorn up on port {server.port}, workers {server.worker_pids()}{label}")
        rss_idle = server.worker_memory_mb()
        load = []
        for level, clients in enumerate(concurrency):
            level_queries = http_queries[level * http_requests : (level + 1) * http_requests]
            load.append(http_load(server, level_queries, clients, http_requests, http_seconds))
            log(f"HTTP{label}, {clients} clients: {load[-1]['requests_per_s']} req/s, p95 {load[-1]['p95_ms']} ms")
        rss_loaded = server.worker_memory_mb()
        own_loaded = server.worker_memory_mb("RssAnon")
        fresh = freshness(server, queries, writes) if writes else None
        if fresh:
            log(f"freshness: gap p95 {fresh['gap']['p95_ms']} ms")
    finally:
        server.stop()
    return load, rss_idle, rss_loaded, own_loaded, fresh


TABLE_COLUMNS = (
    ("what", "measure"),
    ("n", "n"),
    ("rate", "req/s or calls/s"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("p99_ms", "p99 ms"),
    ("vs_whoosh", "p95 / Whoosh p95"),
    ("vs_fts5", "p95 / FTS5 p95"),
    ("note", "note"),
)


def table_rows(results):
    """The lines of the printed table."""
    measured = results["baselines"]
    whoosh = measured["whoosh"]["latency"]["p95_ms"] if measured else None
    fts5 = measured["fts5"]["latency"]["p95_ms"] if measured else None

    def line(what, summary, rate=None, note="", compare=True):
        row = {
            "what": what,
            "n": summary["n"],
            "rate": rate,
            "p50_ms": summary["p50_ms"],
            "p95_ms": summary["p95_ms"],
            "p99_ms": summary["p99_ms"],
            "note": note,
        }
        if compare and measured:
            row.update(vs_whoosh=ratio(summary["p95_ms"], whoosh), vs_fts5=ratio(summary["p95_ms"], fts5))
        return row

    imported, product = results["import"], results["product"]
    rows = [
        {
            "what": "import, product CLI (calls/s)",
            "n": results["n"],
            "rate": imported["calls_per_s"],
            "note": (
                f"not measured: an earlier run's knowledge base (--reuse); store {imported['store_mb']} MB, "
                if imported.get("reused")
                else f"{imported['seconds']} s wall incl. start-up, {imported.get('cpu_seconds')} s CPU; "
                f"store {imported['store_mb']} MB, "
            )
            + f"index {imported['index_mb']} MB",
        }
    ]
    for name in measured:
        base = measured[name]
        rows.append(
            {
                "what": f"build, {name} baseline (calls/s)",
                "n": results["n"],
                "rate": base["calls_per_s"],
                "note": f"{base['size_mb']} MB",
            }
        )
    mean = product["all"]["mean_ms"]
    rows.append(
        line(
            "search, product in-process",
            product["all"],
            round(1000 / mean, 1) if mean else None,
            f"{product['timed_out']} hit the time limit; scored "
            f"{100 * product.get('postings_scored_share', 1.0):.1f} % of their terms' postings",
        )
    )
    for kind in ("clean", "typo", "british"):
        if product[kind]["n"]:
            rows.append(line(f"  … {kind} queries", product[kind]))
    if "repeated" in product:
        rows.append(line("  … the same queries again (result cache)", product["repeated"], compare=False))
    if "facets" in product:
        rows.append(line("  … with facet counts, as the agents' page asks", product["facets"], compare=False))
    semantic = results.get("product_semantic")
    if semantic:
        mean = semantic["all"]["mean_ms"]
        rows.append(line("search, product in-process, ranking by meaning", semantic["all"], round(1000 / mean, 1)))
        for kind in ("clean", "typo", "british"):
            if semantic[kind]["n"]:
                rows.append(line(f"  … {kind} queries", semantic[kind]))
    for name in measured:
        latency = measured[name]["latency"]
        rows.append(line(f"search, {name} baseline", latency, round(1000 / latency["mean_ms"], 1)))
    for load in results["http"]:
        rows.append(
            line(
                f"HTTP, {load['clients']} client(s), 2 workers",
                load,
                load["requests_per_s"],
                f"{load['errors']} errors",
            )
        )
    semantic_http = results.get("http_semantic")
    for load in semantic_http[0] if semantic_http else ():
        rows.append(
            line(
                f"HTTP, {load['clients']} client(s), 2 workers, ranking by meaning",
                load,
                load["requests_per_s"],
                f"{load['errors']} errors",
            )
        )
    embedding = results.get("embedding")
    if embedding:
        rows.append(
            {
                "what": f"embed every call ({embedding['procs']} processes, passages/s)",
                "n": embedding["passages"],
                "rate": embedding["per_s"],
                "note": f"{embedding['seconds']} s wall, {embedding['cpu_seconds']} s CPU"
                + (" (an earlier run's, --reuse)" if embedding.get("reused") else ""),
            }
        )
    fresh = results["freshness"]
    if fresh:
        rows.append(
            line(
                "write → searchable gap",
                fresh["gap"],
                None,
                f"{fresh['found_on_first_search']}/{fresh['writes']} on 1st search, "
                f"{fresh['not_found_within_s']} missing",
                compare=False,
            )
        )
        rows.append(line("  … POST /api/v1/calls", fresh["write"], compare=False))
    rss = results["worker_rss_mb"]
    rows.append(
        {
            "what": "worker RSS MB (idle → after load)",
            "n": len(rss["after_load"]),
            "note": ", ".join(f"{rss['idle'].get(pid, '?')} → {mb}" for pid, mb in rss["after_load"].items()),
        }
    )
    own = results.get("worker_own_mb", {}).get("after_load", {})
    rows.append(
        {
            "what": "  … of which the worker's own (RssAnon; the rest is shared file cache)",
            "n": len(own),
            "note": ", ".join(str(mb) for mb in own.values()),
        }
    )
    if semantic_http:
        _, idle, loaded, own, _ = semantic_http
        rows.append(
            {
                "what": "worker RSS MB, ranking by meaning (idle → after load; own after load)",
                "n": len(loaded),
                "note": ", ".join(f"{idle.get(pid, '?')} → {mb}" for pid, mb in loaded.items())
                + "; own "
                + ", ".join(str(mb) for mb in own.values()),
            }
        )
    return rows


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="synthetic calls (default 10000)")
    parser.add_argument("--seed", type=int, default=synthetic.DEFAULT_SEED)
    parser.add_argument("--queries", type=int, default=300, help="agent queries timed in-process (default 300)")
    parser.add_argument("--concurrency", default="1,4,16", help="HTTP client counts (default 1,4,16)")
    parser.add_argument("--http-requests", type=int, default=400, help="requests per concurrency level at most")
    parser.add_argument("--http-seconds", type=float, default=20.0, help="seconds per concurrency level at most")
    parser.add_argument("--writes", type=int, default=50, help="writes timed for freshness (0 to skip)")
    parser.add_argument(
        "--semantic",
        action="store_true",
        help="also rank by meaning: embed every call (timed), then search in-process and over HTTP with it on too",
    )
    parser.add_argument(
        "--no-baselines", action="store_true", help="skip the plain Whoosh and FTS5 baselines (for --n 1000000)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write the results (default: bench/results/speed-N.json)",
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep the generated data here instead of a temporary folder"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --workdir: search the knowledge base an earlier run with the same --n left there (no import)",
    )
    add_data_argument(parser, fallback="sample/calls.jsonl alone")
    args = parser.parse_args(argv)
    try:
        args.concurrency = tuple(int(c) for c in args.concurrency.split(",") if c.strip())
    except ValueError:
        parser.error(f"--concurrency must be comma-separated whole numbers, e.g. 1,4,16, not {args.concurrency!r}")
    if args.n < 1 or args.queries < 1 or not args.concurrency or min(args.concurrency) < 1:
        parser.error("--n, --queries and every --concurrency value must be 1 or more")
    if args.reuse and not args.workdir:
        parser.error("--reuse needs --workdir: the folder an earlier run left its knowledge base in")
    if args.n >= 1_000_000:
        print("note: 1,000,000 calls take about 6 minutes to import on 2 cores, 7 for the whole run", file=sys.stderr)
    return args


def main(argv=None):
    """Run the benchmark from the command line; returns the exit status."""
    whoosh_compat.install()
    args = parse_args(argv)
    started = time.perf_counter()
    options = {
        "seed": args.seed,
        "query_count": args.queries,
        "concurrency": args.concurrency,
        "http_requests": args.http_requests,
        "http_seconds": args.http_seconds,
        "writes": args.writes,
        "baselines": not args.no_baselines,
        "data_dir": optional_data_or_exit("python -m bench.speed", args.data, synthetic.needed_files()),
        "reuse": args.reuse,
        "semantic": args.semantic,
    }
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        results = run(args.n, args.workdir, **options)
    else:
        with tempfile.TemporaryDirectory(prefix="kb-speed-") as workdir:
            results = run(args.n, Path(workdir), **options)
    results["environment"] = environment()
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(format_table(TABLE_COLUMNS, table_rows(results)))
    kinds = results["query_kinds"]
    print(
        f"\n{results['queries']} agent queries of 2-5 words: {kinds['clean']} clean, {kinds['typo']} misspelt, "
        f"{kinds['british']} British; product = SearchService with typo, sound-alike and synonym suggestions on, "
        f"hits with snippets; baselines = OR of the words, top 10, catch-all text.\n{results['sources']}."
    )
    path = write_json(results, args.json or RESULTS_DIR / f"speed-{args.n}.json")
    print(f"wrote {path} in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmarks run end to end on tiny inputs and give sane numbers (issues #3 and #5).

Relevance runs on the miniature data folder of tests/bench_data.py, and on the real data sets where they are
beside the clone (docs/data.md); speed runs on sample/calls.jsonl alone, as on a bare clone.
"""

import importlib.util
import json
import subprocess
import sys

import pytest
from bench_data import write_mini_data
from conftest import REAL_DATA, needs_real_data
from servers import ROOT

from app import SAMPLE_CALLS
from bench import against_whoosh, corpora, relevance, rerank_train, side_by_side, speed, write_during_import
from bench.baselines import Fts5Baseline, WhooshBaseline
from bench.corpora import BenchQuery
from bench.report import format_table, percentile
from engine.rerank import load_reranker

QUERIES_PER_SET = 10
EVERY_NTH_CALL = 40


def out_of_bounds(lines):
    """The metrics of the table's lines that are not between 0 and 1, or whose recall falls as k grows."""
    wrong = []
    for line in lines:
        wrong += [(key, line) for key in ("product_mrr", "baseline_mrr", "product_r1") if not 0 <= line[key] <= 1]
        if not line["product_r1"] <= line["product_r5"] <= line["product_r10"] <= 1:
            wrong.append(("recall", line))
    return wrong


@pytest.fixture(scope="module")
def tiny_relevance(tmp_path_factory):
    """Relevance over 10 queries per set and a few hundred real calls holding their answers."""
    query_sets = {
        name: relevance.sample_queries(load(REAL_DATA), QUERIES_PER_SET) for name, load in relevance.QUERY_SETS.items()
    }
    needed = {i for queries in query_sets.values() for q in queries for i in q.relevant_ids | q.exclude_ids}
    calls = [
        call for n, call in enumerate(corpora.all_calls(REAL_DATA)) if call["id"] in needed or n % EVERY_NTH_CALL == 0
    ]
    # Without the model: embedding these 200 calls would take most of a minute; the mini data's run has it.
    return relevance.run(calls, query_sets, tmp_path_factory.mktemp("relevance"), REAL_DATA, jobs=1, model=None)


@pytest.fixture(scope="module")
def mini_relevance(tmp_path_factory):
    """Relevance over every query and call of the miniature data folder."""
    mini = write_mini_data(tmp_path_factory.mktemp("bench-data"))
    query_sets = {name: load(mini) for name, load in relevance.QUERY_SETS.items()}
    query_sets = {name: queries for name, queries in query_sets.items() if queries}
    return query_sets, relevance.run(corpora.all_calls(mini), query_sets, tmp_path_factory.mktemp("run"), mini)


def test_relevance_scores_every_set_and_variant_of_the_mini_data(mini_relevance):
    query_sets, results = mini_relevance
    lines = {(line["set"], line["split"], line["variant"]): line for line in results["lines"]}
    assert {name: lines[(name, "all", "clean")]["n"] for name in query_sets} == {
        name: len(queries) for name, queries in query_sets.items()
    }
    assert lines[("all", "all", "typos")]["n"] > 0
    assert lines[("all", "all", "british")]["n"] > 0
    assert {target["set"] for target in results["targets"]} <= {*relevance.QUERY_SETS, "all"}
    assert out_of_bounds(results["lines"]) == []
    assert lines[("all", "all", "clean")]["product_mrr"] > 0.5
    assert lines[("all", "all", "clean")]["dense_mrr"] > 0.0


@needs_real_data
def test_relevance_scores_every_set_and_variant(tiny_relevance):
    lines = {(line["set"], line["split"], line["variant"]): line for line in tiny_relevance["lines"]}
    for name in relevance.QUERY_SETS:
        assert lines[(name, "all", "clean")]["n"] == QUERIES_PER_SET
    sets = len(relevance.QUERY_SETS)
    assert lines[("all", "all", "clean")]["n"] == sets * QUERIES_PER_SET
    assert lines[("all", "all", "typos")]["n"] > 0
    assert lines[("agent", "all", "typed")]["n"] == QUERIES_PER_SET
    assert lines[("all", "tune", "clean")]["n"] + lines[("all", "held_out", "clean")]["n"] == sets * QUERIES_PER_SET


@needs_real_data
def test_relevance_metrics_are_between_0_and_1(tiny_relevance):
    assert out_of_bounds(tiny_relevance["lines"]) == []
    overall = next(line for line in tiny_relevance["lines"] if line["set"] == line["split"] == "all")
    assert overall["product_mrr"] > 0.3
    assert overall["product_p50_ms"] > 0
    assert overall["baseline_p95_ms"] > 0


@needs_real_data
def test_relevance_checks_a_target_for_every_set(tiny_relevance):
    rows = [row for row in tiny_relevance["queries"] if row["set"] == "gitbugs"]
    assert len(rows) >= QUERIES_PER_SET
    assert {target["set"] for target in tiny_relevance["targets"]} == {*relevance.QUERY_SETS, "all"}
    assert "dense" not in tiny_relevance["engines"]


def test_relevance_drops_excluded_ids_from_the_ranking():
    query = BenchQuery("GBQ-1", "text", frozenset({"GB-2"}), "gitbugs", exclude_ids=frozenset({"GB-1"}))
    asked = []

    def search(text, limit):
        asked.append((text, limit))
        return ["GB-1", "GB-2", "GB-3"]

    scores, _seconds = relevance.run_one(search, "text", query)
    assert (scores["rank"], scores["rr"], scores["r1"]) == (1, 1.0, 1.0)
    assert asked == [("text", relevance.TOP_K + 1)]


def test_score_ranking_counts_rank_and_recall():
    assert relevance.score_ranking(["a", "b", "c"], frozenset({"c", "z"})) == {
        "rank": 3,
        "rr": 1 / 3,
        "r1": 0.0,
        "r5": 0.5,
        "r10": 0.5,
    }
    assert relevance.score_ranking([], frozenset({"a"}))["rr"] == 0.0


def test_baselines_find_a_call_by_its_words(tmp_path):
    calls = [
        {
            "id": "A",
            "title": "Printer offline",
            "problem": "The printer shows offline",
            "resolution": "Restarted",
            "tags": [],
        },
        {"id": "B", "title": "Outlook password", "problem": "Keeps asking", "resolution": "Cleared", "tags": []},
    ]
    whoosh, fts5 = WhooshBaseline(tmp_path / "whoosh"), Fts5Baseline(tmp_path / "fts5.db")
    for baseline in (whoosh, fts5):
        assert baseline.build(calls) == 2
        assert baseline.search("printer is offline")[0] == "A"
        assert baseline.search("!!!") == []
        baseline.close()


def test_speed_runs_on_300_calls(tmp_path):
    results = speed.run(300, tmp_path, query_count=20, concurrency=(2,), http_requests=20, http_seconds=10, writes=3)
    assert results["sources"].startswith("No data folder: calls drawn from sample/calls.jsonl alone")
    assert min(results["query_kinds"].values()) > 0
    assert results["import"]["calls_per_s"] > 0
    assert results["import"]["index_mb"] > 0
    assert results["product"]["all"]["n"] == 20
    assert results["product"]["all"]["p50_ms"] > 0
    for name in ("whoosh", "fts5"):
        assert results["baselines"][name]["latency"]["p95_ms"] > 0
    (load,) = results["http"]
    assert (load["clients"], load["n"], load["errors"]) == (2, 20, 0)
    assert load["requests_per_s"] > 0
    assert results["freshness"]["gap"]["n"] == 3
    assert len(results["worker_rss_mb"]["after_load"]) == 2
    assert "HTTP, 2 client(s), 2 workers" in format_table(speed.TABLE_COLUMNS, speed.table_rows(results))
    assert results["product"]["repeated"]["n"] == 20
    assert results["product"]["facets"]["n"] == 20
    checked = against_whoosh.compare(tmp_path / "kb", 20)
    assert checked["passes"] == checked["product"]["n"] == checked["reference"]["n"] == 40
    assert checked["searched_by_whoosh"] > 0
    assert checked["differing"] == []


def test_speed_runs_without_baselines_for_big_knowledge_bases(tmp_path):
    results = speed.run(
        200, tmp_path, query_count=10, concurrency=(1,), http_requests=5, http_seconds=5, writes=0, baselines=False
    )
    assert results["baselines"] == {}
    table = format_table(speed.TABLE_COLUMNS, speed.table_rows(results))
    assert "search, product in-process" in table and "baseline" not in table


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout (it starts a worktree of a commit)")
def test_side_by_side_serves_an_earlier_commit_and_this_checkout_in_turn(tmp_path):
    speed.run(
        200, tmp_path, query_count=5, concurrency=(1,), http_requests=5, http_seconds=5, writes=0, baselines=False
    )
    report = tmp_path / "side.json"
    arguments = ["--workdir", str(tmp_path), "--before", "HEAD", "--rounds", "1", "--requests", "30", "--clients", "2"]
    side_by_side.main([*arguments, "--json", str(report)])
    runs = json.loads(report.read_text(encoding="utf-8"))["runs"]
    assert [run["version"] for run in runs] == ["before", "after"]
    assert [(run["n"], run["errors"]) for run in runs] == [(30, 0), (30, 0)]
    worktrees = subprocess.run(["git", "-C", str(ROOT), "worktree", "list"], capture_output=True, text=True).stdout
    assert "kb-before-" not in worktrees


def test_write_during_import_runs_on_2000_calls(tmp_path, monkeypatch):
    monkeypatch.setattr(write_during_import, "BEFORE_SECONDS", 1.0)
    monkeypatch.setattr(write_during_import, "AFTER_SECONDS", 1.0)
    results = write_during_import.run(2_000, 200, searchers=1, write_every=0.2, workdir=tmp_path, data=None, seed=1)
    writes, searches = results["writes_during_import"], results["searches_during_import"]
    assert (writes["n"] > 0, writes["errors"], writes["never_found"]) == (True, 0, 0)
    assert writes["indexed_true"] + writes["indexed_false"] == writes["n"]
    assert (searches["n"] > 0, searches["errors"]) == (True, 0), searches["error_answers"]
    assert "writes during the import" in write_during_import.table(results)


def test_percentile_is_nearest_rank():
    assert [percentile([5, 1, 4, 2, 3], p) for p in (0, 50, 95, 100)] == [1, 3, 5, 5]
    assert percentile([], 50) is None


def test_customers_benchmark_times_every_lookup_and_measures_recall_on_real_variants(tmp_path):
    from bench import customers

    results = customers.main(
        [
            "--n",
            "400",
            "--heads",
            "30",
            "--queries",
            "20",
            "--workdir",
            str(tmp_path),
            "--json",
            str(tmp_path / "c.json"),
        ]
    )
    assert sorted(results["latency"]) == ["account", "email", "name as heard", "name as written", "phone"]
    assert [row["lookups"] for row in results["latency"].values()] == [20, 20, 20, 20, 20]
    assert results["recall"]["surnames"] == 30
    assert results["recall"]["exact-only"]["recall_at_10"] < results["recall"]["sounds-like"]["recall_at_10"]
    assert "Apache License 2.0" in results["names_source"]


@pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("onnxruntime", "tokenizers")),
    reason="the embedding model's packages are not installed: pip install -r requirements-dev.txt",
)
def test_page_settle_types_queries_into_the_page_with_ranking_by_meaning_on_and_off(
    tmp_path, runner, data_folder, monkeypatch
):
    monkeypatch.setenv("KB_SEMANTIC", "true")
    assert runner("import", SAMPLE_CALLS).exit_code == 0
    assert runner("embed").exit_code == 0
    # A process of its own: Playwright's sync API refuses to start where another test's browser already runs one.
    settle = [sys.executable, "-m", "bench.page_settle", str(data_folder), "--queries", "3"]
    done = subprocess.run([*settle, "--json", str(tmp_path / "settle.json")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "settle.json").read_text())["results"]
    assert {label: summary["n"] for label, summary in results.items()} == {
        "ranking by meaning on": 3,
        "ranking by meaning off": 3,
    }
    assert all(summary["p50_ms"] > 0 for summary in results.values())


@pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("onnxruntime", "tokenizers")),
    reason="the embedding model's packages are not installed: pip install -r requirements-dev.txt",
)
def test_rerank_train_fits_a_file_the_product_loads_on_the_tune_queries_of_the_mini_data(tmp_path, capsys):
    mini = write_mini_data(tmp_path / "data")
    out = tmp_path / "rerank.json"
    assert (
        rerank_train.main(["--data", str(mini), "--out", str(out), "--vectors", str(tmp_path / "v"), "--jobs", "1"])
        == 0
    )
    fitted = load_reranker("any", out)
    assert fitted is not None and fitted.about["command"] == "python -m bench.rerank_train"
    assert set(fitted.about["tune_mrr_reranker"]) == set(fitted.about["tune_mrr_rrf"])
    assert "re-ranker" in capsys.readouterr().out

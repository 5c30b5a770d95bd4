"""Finding the caller (issue #18): lookup speed at 100,000 customers, and recall of names as heard.

Usage::

    python -m bench.customers [--n 100000] [--heads 1500] [--queries 1000] [--seed 18] [--workdir DIR]

One run, in-process, over a real SQLite store (``store.sqlite``, the product's own write path):

1. ``--n`` customers, made from real names: given names and surnames from ``bench/data/surname_variants.tsv``
   (Ancestry.com's labelled name variants, published by the Foundation for On-Line Genealogy in the "Names"
   project, Apache License 2.0; see ``bench/data/surname_variants.SOURCE.md``), drawn with a Zipf-like weight
   so that some surnames are common, each with an account number, a London phone number and an e-mail address.
2. Latency of ``engine.callers.find_callers`` (p50, p95, max, ms) for ``--queries`` lookups of each kind: the
   account number in lower case, the phone number in the ``0044...`` form (stored as ``020 ...``), the e-mail
   address in capitals, the name as written, and the name as heard (a surname's real variant).
3. Recall: for ``--heads`` surnames that have real variants, a customer bears the surname; every variant is
   looked up with that customer's given name ("John Smyth" for John Smith). Recall@10 of the sound-alike
   lookup against exact-only lookup (the same lookup keeping only matches of every word as written), in the
   same run, with how many customers each lookup returns on average.

Prints one table and writes ``bench/results/customers.json``.
"""

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from engine.callers import find_callers
from store.customer_models import validate_customer
from store.sqlite import SqliteCallStore

REPO = Path(__file__).resolve().parents[1]
NAMES = REPO / "bench" / "data" / "surname_variants.tsv"
RESULTS = REPO / "bench" / "results" / "customers.json"
SOURCE = (
    "bench/data/surname_variants.tsv: Ancestry.com's labelled name variants from the Foundation for On-Line "
    "Genealogy's Names project (github.com/tfmorris/Names), Apache License 2.0"
)
TARGET_MS = 20.0
TOP = 10
BATCH = 2_000


def read_names(path=NAMES):
    """``(surname heads with their variants, every surname, every given name)`` from the TSV."""
    heads, surnames, given = {}, set(), set()
    with open(path, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            name, variants, kind = line.rstrip("\n").split("\t")
            variants = variants.split()
            if kind == "surname":
                heads[name] = variants
                surnames.update([name, *variants])
            else:
                given.update([name, *variants])
    return heads, sorted(surnames), sorted(given)


def zipf_picker(values, rng, exponent=0.75):
    """A function drawing from ``values`` (shuffled) with weight 1/rank**exponent."""
    order = list(values)
    rng.shuffle(order)
    weights = [1 / (rank**exponent) for rank in range(1, len(order) + 1)]
    return lambda count: rng.choices(order, weights=weights, k=count)


def make_customers(n, heads, surnames, given, rng, targets):
    """``n`` raw customer records; the first ones bear the target surnames (one each)."""
    surname_of = zipf_picker(surnames, rng)(n)
    given_of = zipf_picker(given, rng)(n)
    surname_of[: len(targets)] = targets
    for i in range(n):
        first, last = given_of[i].title(), surname_of[i].title()
        yield {
            "id": f"ACC-{i:06d}",
            "name": f"{first} {last}",
            "phones": [f"020 {3000 + i // 10_000:04d} {i % 10_000:04d}"],
            "emails": [f"{first.lower()}.{last.lower()}{i}@example.com"],
            "time_zone": "Europe/London",
        }


def timed(store, queries):
    """Latencies (ms) of ``find_callers`` over ``queries`` and the results of each."""
    spent, found = [], []
    for query in queries:
        started = time.perf_counter()
        found.append(find_callers(store, query, "GB", TOP))
        spent.append((time.perf_counter() - started) * 1000)
    return spent, found


def summary(spent):
    """p50, p95 and max of latencies in ms."""
    ordered = sorted(spent)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
        "max_ms": round(ordered[-1], 2),
        "lookups": len(ordered),
    }


def recall(store, heads, targets, records):
    """Recall@10 of variant lookups, sound-alike against exact-only, and results returned per lookup."""
    hits = {"sounds-like": 0, "exact-only": 0}
    returned = {"sounds-like": 0, "exact-only": 0}
    pairs = 0
    for position, head in enumerate(targets):
        record = records[position]
        first = record["name"].split()[0]
        for variant in heads[head]:
            results = find_callers(store, f"{first} {variant.title()}", "GB", TOP)
            exact = [r for r in results if r["how"] == "name"]
            pairs += 1
            for label, shown in (("sounds-like", results), ("exact-only", exact)):
                returned[label] += len(shown)
                hits[label] += any(r["customer"]["id"] == record["id"] for r in shown)
    return {
        label: {"recall_at_10": round(hits[label] / pairs, 4), "mean_results": round(returned[label] / pairs, 2)}
        for label in hits
    } | {"pairs": pairs, "surnames": len(targets)}


def run(n, heads_wanted, query_count, seed, workdir):
    """The whole benchmark; returns the results dict."""
    rng = random.Random(seed)
    heads, surnames, given = read_names()
    with_variants = sorted(head for head, variants in heads.items() if variants)
    targets = rng.sample(with_variants, min(heads_wanted, len(with_variants)))
    store = SqliteCallStore(Path(workdir) / "calls.db")
    store.migrate()
    records, started = [], time.perf_counter()
    batch = []
    for raw in make_customers(n, heads, surnames, given, rng, targets):
        record = validate_customer(raw, "GB")
        records.append(record)
        batch.append(record)
        if len(batch) == BATCH:
            store.upsert_customers(batch)
            batch = []
    if batch:
        store.upsert_customers(batch)
    import_s = time.perf_counter() - started
    sample = rng.sample(records, min(query_count, len(records)))
    variant_queries = [
        f"{records[i]['name'].split()[0]} {rng.choice(heads[head]).title()}"
        for i, head in enumerate(targets[:query_count])
    ]
    kinds = {
        "account": [r["id"].lower() for r in sample],
        "phone": ["0044" + r["phones"][0][3:] for r in sample],
        "email": [r["emails"][0].upper() for r in sample],
        "name as written": [r["name"] for r in sample],
        "name as heard": variant_queries,
    }
    latency = {kind: summary(timed(store, queries)[0]) for kind, queries in kinds.items()}
    found = recall(store, heads, targets, records)
    store.close()
    return {
        "customers": n,
        "import_s": round(import_s, 1),
        "latency": latency,
        "recall": found,
        "target_p95_ms": TARGET_MS,
        "names_source": SOURCE,
        "seed": seed,
    }


def report(results):
    """The results as a table of text lines."""
    lines = [
        f"customers: {results['customers']:,} (stored in {results['import_s']} s); names: {results['names_source']}",
        f"{'lookup':<18}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  target p95 <= {results['target_p95_ms']} ms",
    ]
    for kind, row in results["latency"].items():
        verdict = "ok" if row["p95_ms"] <= results["target_p95_ms"] else "OVER"
        lines.append(f"{kind:<18}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['max_ms']:>9}  {verdict}")
    found = results["recall"]
    lines.append(f"recall@10 of {found['pairs']:,} real variant spellings of {found['surnames']:,} surnames:")
    for label in ("sounds-like", "exact-only"):
        row = found[label]
        lines.append(f"  {label:<12} recall {row['recall_at_10']:.3f}, {row['mean_results']} customers per lookup")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description="Caller lookup: speed at scale, recall of names as heard.")
    parser.add_argument("--n", type=int, default=100_000, help="customers to store (default 100,000)")
    parser.add_argument("--heads", type=int, default=1_500, help="surnames with variants to test recall on")
    parser.add_argument("--queries", type=int, default=1_000, help="lookups timed per kind")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--workdir", type=Path, default=None, help="where to keep the store (default: a temp folder)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="results file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(args.n, args.heads, args.queries, args.seed, workdir)
    print("\n".join(report(results)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()

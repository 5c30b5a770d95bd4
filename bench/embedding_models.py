"""Embedding models compared: speed per query and per passage, and dense retrieval on StackFAQ.

Every model is loaded through :func:`engine.embedding.load_embedder`, so what is measured is what search would run.
OpenMP reads its thread count once per process, so run one process per model and thread count:

    for model in minilm-l6-int8 e5-small-q4; do for threads in 1 2; do
        python -m bench.embedding_models --model $model --threads $threads
    done; done

Speed: the median wall time of one call (``embed_query`` for 60 three- to six-word StackFAQ rephrasings,
``embed_passages`` of one text for 16 passages of 80 and of 250 words cut from the threads' answers), with the CPU
time of the process beside it, since on a shared 2-core machine another process can stretch the wall time.
StackFAQ: each thread is one passage (its question, then its answers, of which the model reads the first 128 tokens);
each of the 1,249 rephrasings is a query whose one relevant passage is its own thread; MRR@10 of cosine ranking.
"""

import argparse
import csv
import json
import os
import random
import statistics
import time
from pathlib import Path

import numpy as np

from bench.report import format_table, log
from engine.embedding import DEFAULT_MODEL, MODEL_NAMES, load_embedder

STACKFAQ = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "stackfaq"
PASSAGE_LENGTHS = (80, 250)
PASSAGES_PER_LENGTH = 16
SHORT_QUERIES = 60


def load_stackfaq(folder=STACKFAQ):
    """The StackFAQ threads and rephrasings.

    :param folder: the ``stackfaq`` data folder.
    :returns: ``(threads, queries)``: thread dicts, and ``(query_text, thread_id)`` pairs.
    """
    with (folder / "faq_threads.jsonl").open(encoding="utf-8") as lines:
        threads = [json.loads(line) for line in lines]
    with (folder / "queries.tsv").open(encoding="utf-8", newline="") as rows:
        queries = [(row["query"], row["thread_id"]) for row in csv.DictReader(rows, delimiter="\t")]
    return threads, queries


def thread_passage(thread):
    """A thread as one passage: its question, then its answers.

    :param thread: a StackFAQ thread dict.
    :returns: the passage text.
    """
    return "\n".join([thread["question"], *thread["answers"]])


def stackfaq_mrr(embedder, threads, queries):
    """MRR@10 and hit@1 of cosine ranking over the threads, and the time to embed them.

    :param embedder: a loaded :class:`engine.embedding.Embedder`.
    :param threads: StackFAQ thread dicts.
    :param queries: ``(query_text, thread_id)`` pairs.
    :returns: ``{"mrr10", "hit1", "passages_s", "queries_s"}``.
    """
    started = time.perf_counter()
    passage_vectors = embedder.embed_passages([thread_passage(thread) for thread in threads])
    passages_s = time.perf_counter() - started
    started = time.perf_counter()
    query_vectors = np.stack([embedder.embed_query(text) for text, _ in queries])
    queries_s = time.perf_counter() - started
    position = {thread["id"]: row for row, thread in enumerate(threads)}
    relevant = np.array([position[thread_id] for _, thread_id in queries])
    scores = query_vectors @ passage_vectors.T
    ranks = (scores > scores[np.arange(len(queries)), relevant][:, None]).sum(axis=1)
    reciprocal_ranks = np.where(ranks < 10, 1.0 / (ranks + 1), 0.0)
    return {
        "mrr10": round(float(reciprocal_ranks.mean()), 4),
        "hit1": round(float((ranks == 0).mean()), 4),
        "passages_s": round(passages_s, 1),
        "queries_s": round(queries_s, 1),
    }


def speed_texts(threads, queries, seed=0):
    """Short queries and fixed-length passages cut from the threads' answers.

    :param threads: StackFAQ thread dicts.
    :param queries: ``(query_text, thread_id)`` pairs.
    :param seed: seed of the passage offsets.
    :returns: ``{"query": [...], "passage 80 words": [...], "passage 250 words": [...]}``.
    """
    words = " ".join(answer for thread in threads for answer in thread["answers"]).split()
    offsets = random.Random(seed)
    texts = {"query": [text.rstrip("?.") for text, _ in queries if 3 <= len(text.split()) <= 6][:SHORT_QUERIES]}
    for length in PASSAGE_LENGTHS:
        starts = [offsets.randrange(len(words) - length) for _ in range(PASSAGES_PER_LENGTH)]
        texts[f"passage {length} words"] = [" ".join(words[start : start + length]) for start in starts]
    return texts


def time_calls(embed_one, texts):
    """Median wall and CPU time of one call per text, after one warm-up call.

    :param embed_one: a function of one text.
    :param texts: the texts.
    :returns: ``{"wall_ms", "cpu_ms"}``, medians over the texts.
    """
    embed_one(texts[0])
    wall_ms, cpu_ms = [], []
    for text in texts:
        wall_started, cpu_started = time.perf_counter(), time.process_time()
        embed_one(text)
        wall_ms.append((time.perf_counter() - wall_started) * 1000)
        cpu_ms.append((time.process_time() - cpu_started) * 1000)
    return {"wall_ms": round(statistics.median(wall_ms), 1), "cpu_ms": round(statistics.median(cpu_ms), 1)}


def resident_mb():
    """This process's resident memory in MB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return None


def main(argv=None):
    """Measure one model at one thread count and print the tables."""
    parser = argparse.ArgumentParser(prog="python -m bench.embedding_models", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=MODEL_NAMES, default=DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads one call may use")
    parser.add_argument("--skip-stackfaq", action="store_true", help="time the calls only")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    embedder = load_embedder(args.model, threads=args.threads)
    if embedder is None:
        raise SystemExit(f"{args.model} could not be loaded (see the log line above)")
    log(f"{embedder.name} loaded in {time.perf_counter() - started:.2f} s, {resident_mb()} MB resident")
    threads, queries = load_stackfaq()
    rows = []
    for label, texts in speed_texts(threads, queries).items():
        embed_one = embedder.embed_query if label == "query" else (lambda text: embedder.embed_passages([text]))
        rows.append({"what": label, **time_calls(embed_one, texts), "load": round(os.getloadavg()[0], 1)})
    print(f"{embedder.name}, {args.threads} thread(s), {resident_mb()} MB resident")
    columns = [("what", "one call"), ("wall_ms", "wall ms"), ("cpu_ms", "CPU ms"), ("load", "load avg")]
    print(format_table(columns, rows))
    if not args.skip_stackfaq:
        result = stackfaq_mrr(embedder, threads, queries)
        print(
            f"StackFAQ: MRR@10 {result['mrr10']}, hit@1 {result['hit1']}, {len(threads)} passages in "
            f"{result['passages_s']} s, {len(queries)} queries in {result['queries_s']} s"
        )


if __name__ == "__main__":
    main()

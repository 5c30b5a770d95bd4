"""The engines a new user would reach for instead of ours, run beside the product in ``bench.relevance`` (issue #16).

Every anchor indexes the same call records; every ratio in the benchmark is taken against the best anchor on
each set:

- ``fts5``: SQLite FTS5 with the ``porter unicode61`` tokenizer, a title column weighted 2 and a body column
  (problem, resolution, tags) weighted 1 in ``bm25()``, an OR of the query's words;
- ``fuzzy``: Elasticsearch's ``match`` with ``fuzziness: AUTO`` as Whoosh can say it, over the plain Whoosh index
  (``bench.baselines.WhooshBaseline``): per word, the exact term or a ``FuzzyTerm`` (1 edit up to 5 letters, 2
  above, the first letter fixed, boost 0.5);
- ``dense``: the embedding model alone, every record's passage (``index.schema.passage_text``) scored exactly by
  cosine similarity;
- ``fts5_dense``: ``fts5`` and ``dense`` fused by reciprocal rank fusion (k = 60), what hybrid engines offer.

Embedding 6,130 records takes minutes, so the passage vectors are kept in a :class:`index.vectors.VectorStore`
under the benchmark's work folder, keyed by model and passage digest: a rerun embeds only what changed, and the
product's knowledge base gets a copy of the same files (the same vectors it would compute itself).
"""

import multiprocessing
import re
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np

from bench.baselines import WhooshBaseline
from engine.embedding import load_embedder
from engine.evaluate import evaluate
from engine.postings import PostingArrays
from engine.query import AnyOf, BestOf, Term
from engine.scoring import IndexStatistics
from index import whoosh_compat
from index.schema import passage_digest, passage_text
from index.vectors import VECTORS_DIR, VectorStore, model_folder_name

RRF_K = 60
RRF_DEPTH = 100
FUZZY_BOOST = 0.5
_WORD = re.compile(r"\w+")
WORK_DIR = Path(__file__).resolve().parent / "work"


class Fts5PorterAnchor:
    """SQLite FTS5, ``porter unicode61``, title ×2 in bm25, OR of the words."""

    name = "fts5"

    def __init__(self, path):
        self.path = path
        self.db = None

    def build(self, records):
        """Insert the records in one transaction; returns self."""
        self.db = sqlite3.connect(str(self.path))
        self.db.execute("CREATE VIRTUAL TABLE calls USING fts5(id UNINDEXED, title, body, tokenize='porter unicode61')")
        with self.db:
            self.db.executemany(
                "INSERT INTO calls (id, title, body) VALUES (?, ?, ?)",
                (
                    (r["id"], r["title"], "\n".join((r["problem"], r["resolution"], " ".join(r["tags"]))))
                    for r in records
                ),
            )
        self.db.close()
        self.db = None
        return self

    def open(self):
        """Open the database built earlier (in this process or another)."""
        self.db = sqlite3.connect(str(self.path))
        return self

    def search(self, text, limit=10):
        """The ids of the best ``limit`` records for ``text``."""
        words = dict.fromkeys(word.lower() for word in _WORD.findall(text))
        if not words:
            return []
        expression = " OR ".join(f'"{word}"' for word in words)
        rows = self.db.execute(
            "SELECT id FROM calls WHERE calls MATCH ? ORDER BY bm25(calls, 0.0, 2.0, 1.0) LIMIT ?", (expression, limit)
        )
        return [row[0] for row in rows]

    def close(self):
        if self.db is not None:
            self.db.close()
            self.db = None


class FuzzyAnchor:
    """Elasticsearch-style fuzzy matching over the plain Whoosh index.

    Per analysed word, the best of its exact term (weight 1) and the index terms ``FuzzyTerm`` would expand it to
    (1 edit up to 5 letters, 2 above, the first letter fixed; weight 0.5), summed over the words, BM25. Whoosh's own
    matchers took half a second a query here (a word of 8 letters expands to dozens of terms), so the expansion is
    Whoosh's (``terms_within``, kept per word) and the scoring the product's NumPy evaluation of the same BM25F.
    """

    name = "fuzzy"

    def __init__(self, baseline):
        """
        :param baseline: an opened :class:`bench.baselines.WhooshBaseline` (its index and analyzer).
        """
        self.baseline = baseline
        self._searcher = None
        self._stats = None
        self._postings = PostingArrays()
        self._expansions = {}

    def expansions(self, word):
        """The index terms within the word's edit distance, the word itself left out."""
        if word not in self._expansions:
            edits = 1 if len(word) <= 5 else 2
            near = self._searcher.reader().terms_within("text", word, edits, prefix=1)
            self._expansions[word] = tuple(sorted(term for term in near if term != word))
        return self._expansions[word]

    def query_for(self, text):
        """The query tree (``engine.query``): any word, each the best of its exact and fuzzy terms."""
        words = list(dict.fromkeys(token.text for token in self.baseline.analyzer(text)))
        groups = []
        for word in words:
            options = (Term("text", word),) + tuple(Term("text", t, FUZZY_BOOST) for t in self.expansions(word))
            groups.append(BestOf(options))
        return AnyOf(tuple(groups))

    def search(self, text, limit=10):
        if self._searcher is None:
            with whoosh_compat.shipped():
                self._searcher = self.baseline._index.searcher()
            self._stats = IndexStatistics(self._searcher)
        tree = self.query_for(text)
        if not tree.finding:
            return []
        found = evaluate(self._searcher, self._stats, self._postings, tree, (), limit, time.monotonic() + 60)
        return [self._searcher.stored_fields(docnum)["id"] for _, docnum in found.hits]

    def close(self):
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None


class DenseAnchor:
    """The embedding model alone: exact cosine similarity against every record's passage vector."""

    name = "dense"

    def __init__(self, embedder, store, records):
        """
        :param embedder: the loaded model (queries are embedded as the product does, one at a time).
        :param store: the :class:`index.vectors.VectorStore` holding every record's passage vector.
        :param records: the call records, in any order.
        """
        snapshot = store.snapshot()
        rows = [snapshot.row_of(passage_digest(passage_text(record))) for record in records]
        if any(row is None for row in rows):
            raise RuntimeError("a record has no passage vector: run ensure_vectors first")
        self.embedder = embedder
        self.ids = [record["id"] for record in records]
        self.matrix = np.asarray(snapshot.vectors[np.array(rows)], dtype=np.float32)
        self._queries = {}

    def query_vector(self, text):
        if text not in self._queries:
            self._queries[text] = self.embedder.embed_query(text)
        return self._queries[text]

    def search(self, text, limit=10):
        similarities = self.matrix @ self.query_vector(text)
        best = np.argsort(-similarities, kind="stable")[:limit]
        return [self.ids[row] for row in best.tolist()]

    def close(self):
        pass


class RrfAnchor:
    """Two engines fused by reciprocal rank fusion: score = sum of 1 / (k + rank), ties by id."""

    def __init__(self, name, first, second):
        self.name = name
        self.parts = (first, second)

    def search(self, text, limit=10):
        scores = {}
        for engine in self.parts:
            for rank, call_id in enumerate(engine.search(text, RRF_DEPTH), start=1):
                scores[call_id] = scores.get(call_id, 0.0) + 1.0 / (RRF_K + rank)
        return [call_id for call_id, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))][:limit]

    def close(self):
        pass


def vector_store(embedder, root=WORK_DIR):
    """The benchmark's cache of passage vectors for ``embedder`` under ``root``."""
    return VectorStore(Path(root), embedder.name, embedder.dimension)


def ensure_vectors(records, embedder, root=WORK_DIR, procs=2, log=print):
    """Embed every record's passage that the cache under ``root`` does not hold yet.

    :returns: the :class:`index.vectors.VectorStore`.
    """
    store = vector_store(embedder, root)
    snapshot = store.snapshot()
    waiting = {}
    for record in records:
        text = passage_text(record)
        digest = passage_digest(text)
        if snapshot.row_of(digest) is None:
            waiting.setdefault(digest, text)
    if not waiting:
        return store
    log(f"embedding {len(waiting)} passages in {procs} process(es) (kept in {store.folder})")
    digests = sorted(waiting)
    chunks = [digests[start : start + 64] for start in range(0, len(digests), 64)]
    model = embedder.name.split("/", 1)[0]
    with store.writing(wait_s=600):
        if procs <= 1:
            results = (embedder.embed_passages([waiting[d] for d in chunk]) for chunk in chunks)
            for chunk, vectors in zip(chunks, results):
                store.append(chunk, vectors)
        else:
            context = multiprocessing.get_context("spawn")
            with context.Pool(procs, _start, (model,)) as pool:
                texts = [[waiting[d] for d in chunk] for chunk in chunks]
                for done, (chunk, vectors) in enumerate(zip(chunks, pool.imap(_embed, texts)), start=1):
                    store.append(chunk, vectors)
                    if done % 10 == 0:
                        log(f"embedded {min(done * 64, len(digests))}/{len(digests)}")
    return store


def copy_vectors(store, index_root):
    """Give a knowledge base's index folder a copy of the cached vectors (the files the product would write)."""
    target = Path(index_root) / VECTORS_DIR / model_folder_name(store.model_name)
    target.mkdir(parents=True, exist_ok=True)
    for name in ("vectors.f32", "codes.u64", "digests.bin", "count"):
        shutil.copyfile(store.folder / name, target / name)
    return target


_model = {}


def _start(model_name):
    _model["embedder"] = load_embedder(model_name, threads=1)


def _embed(texts):
    return _model["embedder"].embed_passages(texts)


def open_anchors(workdir, embedder, store, records):
    """Open every anchor over the indexes built in ``workdir`` (see :func:`build_anchors`).

    :returns: ``({name: search(text, limit)}, close)``.
    """
    whoosh = WhooshBaseline(workdir / "baseline").open()
    fts5 = Fts5PorterAnchor(workdir / "fts5.db").open()
    fuzzy = FuzzyAnchor(whoosh)
    anchors = {"baseline": whoosh, "fts5": fts5, "fuzzy": fuzzy}
    if embedder is not None:
        dense = DenseAnchor(embedder, store, records)
        anchors["dense"] = dense
        anchors["fts5_dense"] = RrfAnchor("fts5_dense", fts5, dense)

    def close():
        for anchor in (fuzzy, whoosh, fts5):
            anchor.close()

    return {name: anchor.search for name, anchor in anchors.items()}, close


def build_anchors(workdir, records):
    """Build the plain Whoosh index and the FTS5 database over ``records`` in ``workdir``."""
    WhooshBaseline(workdir / "baseline").build(records)
    Fts5PorterAnchor(workdir / "fts5.db").build(records)

"""Ranking by meaning: the query's vector against the calls' passage vectors, fused with the words' ranking.

The model (``engine.embedding``) is loaded once per process, on first use; when its package is missing or its
file is not the pinned one, :meth:`SemanticStage.embedder` logs why once and returns None, and search is
lexical only, exactly as without this stage. The calls' vectors are in ``index.vectors`` (filled in the
background by ``engine.backlog``); a call whose vector has not landed yet is found by its words only.

A search here:

1. embeds what the agent meant: the query with the plan's typo corrections and sound-alikes put in
   (:func:`meant_text`), through a per-process cache of recent query vectors;
2. compares that vector's sign bits with every call's (``engine.nearest``: under a millisecond at 100,000 calls),
   takes the closest ``SHORTLIST_FACTOR`` times as many rows as needed, every row as close as the last one included,
   and scores that shortlist exactly (cosine similarity in float64, rounded to 6 decimals). The shortlist depends
   only on the set of vectors, never on their order on disk, so every server ranks alike;
3. maps the best rows to the calls in the index that hold that text (``engine.passages``, from each segment's
   passage column; filters applied), best first, ties by id;
4. orders the calls of both lists by the learned re-ranker shipped for the model (``engine.rerank``), or, without
   one, fuses the two lists by weighted reciprocal rank fusion (:func:`fuse`).
"""

import logging
import re
import threading
from collections import OrderedDict

import numpy as np

from engine.embedding import DEFAULT_MODEL, EMBEDDER_CLASSES, load_embedder, vectors_name
from engine.nearest import closest_rows
from engine.passages import PassageTables, digest_prefix_keys, whole_digests
from engine.postings import live_mask
from engine.rerank import candidate_features, load_reranker
from index.vectors import VectorStore, sign_codes

log = logging.getLogger(__name__)

# Rows shortlisted by their sign bits for every hit wanted; a wide shortlist keeps the exact order of the top
# (checked against scoring every row: see docs/search.md).
SHORTLIST_FACTOR = 20
SHORTLIST_MIN = 400
# How many calls each ranking brings to the fusion at least: chosen on the tune split by bench.ablation (15 raised
# every set's tune MRR over 30 and 50).
FUSION_DEPTH = 15
# Reciprocal rank fusion: score = LEXICAL_WEIGHT / (RRF_K + lexical rank) + DENSE_WEIGHT / (RRF_K + dense rank).
RRF_K = 60
LEXICAL_WEIGHT = 1.0
DENSE_WEIGHT = 1.0
# A call found by meaning alone must be at least this similar (MiniLM: a paraphrase about 0.8, an unrelated
# text about 0.1), so a query of nonsense does not list the nearest calls anyway.
MIN_SIMILARITY = 0.3
# Fused scores are about 1/60: scaled so that the final order's rounding (engine.service.SCORE_DIGITS) keeps them apart.
FUSED_SCALE = 1000.0
QUERY_CACHE_SIZE = 1024
SIMILARITY_DIGITS = 6
# The words' scores that agree to this many decimals are equal (as in engine.service).
SCORE_DIGITS = 2


def meant_text(plan, vocabulary=None):
    """The query as the agent meant it: each unknown word replaced by the word it most likely stands for
    (``WordPlan.meant``: of its typo corrections and sound-alikes, the closest, then the commonest), so the model
    embeds "outlook" rather than "outlok", and "phone" rather than "fone" (likewise a word no call holds that is
    known only by its stem: "paging" for "pageing"); and, given the vocabulary, each other known
    word that only a few calls misspell the same way replaced by the far commoner word one edit away
    (``TypoCorrector.likelier_spelling``: "adress" by "address"). Search by words still looks for the word typed.

    :param plan: an ``engine.plan.QueryPlan``.
    :param vocabulary: the ``engine.vocabulary.Vocabulary`` searched, or None to leave known words as typed.
    :returns: the text to embed (the cleaned query when nothing was corrected).
    """
    replaced = {word.typed: word.meant for word in plan.words if word.meant}
    if vocabulary is not None:
        in_capitals = {token.lower() for token in re.findall(r"\w+", plan.text) if token.isupper()}  # acronyms
        for word in plan.words:
            likelier = vocabulary.typos.likelier_spelling(word.typed) if word.known and not word.meant else ""
            if likelier and word.typed not in in_capitals:
                replaced[word.typed] = likelier
    if not replaced:
        return plan.text
    return " ".join(replaced.get(word.lower(), word) for word in plan.text.split())


class SemanticStage:
    """The model, the query vector cache and the vectors of one process."""

    def __init__(self, index_root, model_name=DEFAULT_MODEL, query_cache_size=QUERY_CACHE_SIZE, threads=1, rerank=True):
        """
        :param index_root: the index folder (``IndexHome.root``) holding ``vectors/``.
        :param model_name: one of ``engine.embedding.MODEL_NAMES``.
        :param query_cache_size: query vectors kept for repeated queries (0: none).
        :param threads: CPU threads one model call may use (one: searches run side by side in threads).
        :param rerank: order the candidates by the model's shipped re-ranker when there is one (False: always RRF).
        """
        self.index_root = index_root
        self.model_name = model_name
        self.threads = threads
        self.query_cache_size = query_cache_size
        self._lock = threading.Lock()
        self._loaded = False
        self._embedder = None
        self._reranker = load_reranker(model_name) if rerank else None
        self._store = None
        self._queries = OrderedDict()
        self.passages = PassageTables()

    def use(self, embedder):
        """Use a model loaded elsewhere (the benchmarks share one between engines) instead of loading it."""
        with self._lock:
            self._embedder, self._loaded, self._store = embedder, True, None

    def embedder(self):
        """The model, loaded on first use; None (said once in the log) when it cannot be loaded."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._embedder = load_embedder(self.model_name, threads=self.threads)
                    if self._embedder is None:
                        log.warning("search is by words only: the embedding model %s is unavailable", self.model_name)
                    self._loaded = True
        return self._embedder

    def store(self):
        """The :class:`index.vectors.VectorStore` of the model, or None when its packages are not installed or it
        failed to load. Does not load the model (``engine.embedding.vectors_name``): a process may count and read
        vectors before it forks."""
        if self._loaded and self._embedder is None:
            return None
        if self._store is None:
            if self._embedder is not None:
                name, dimension = self._embedder.name, self._embedder.dimension
            else:
                name, dimension = vectors_name(self.model_name), EMBEDDER_CLASSES[self.model_name].dimension
            if name is None:
                return None
            self._store = VectorStore(self.index_root, name, dimension)
        return self._store

    def loaded_store(self):
        """:meth:`store` with the model loaded first, so that a model file that is missing or not the pinned one
        counts as no model: for processes that embed (never gunicorn's master, which forks the workers)."""
        return self.store() if self.embedder() is not None else None

    def query_vector(self, text):
        """The vector of a query, from the cache when it was asked recently.

        :param text: the text to embed (:func:`meant_text`).
        :returns: float32 array, or None without a model.
        """
        embedder = self.embedder()
        if embedder is None:
            return None
        key = " ".join(text.lower().split())
        with self._lock:
            cached = self._queries.get(key)
            if cached is not None:
                self._queries.move_to_end(key)
                return cached
        vector = embedder.embed_query(key)
        vector.setflags(write=False)
        if self.query_cache_size:
            with self._lock:
                self._queries[key] = vector
                while len(self._queries) > self.query_cache_size:
                    self._queries.popitem(last=False)
        return vector

    def ranked_rows(self, snapshot, vector, wanted):
        """The rows closest to ``vector``, best first: ``(rows, similarities)``; see the module's step 2."""
        if snapshot.count == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        rows = closest_rows(
            snapshot.codes, sign_codes(vector[None, :])[0], max(SHORTLIST_MIN, SHORTLIST_FACTOR * wanted)
        )
        similarities = np.round(
            np.asarray(snapshot.vectors[rows], dtype=np.float64) @ vector.astype(np.float64), SIMILARITY_DIGITS
        )
        # Ties in similarity go by the text's digest, never by where the row happens to be on disk.
        order = np.lexsort((digest_prefix_keys(snapshot.digests[rows]), -similarities))
        return rows[order], similarities[order]

    def dense_hits(self, searcher, postings, vector, filters, wanted, fields_of=None):
        """The calls closest in meaning, best first, as ``(similarity, stored fields, docnum)``.

        :param searcher: the Whoosh searcher of the index in use.
        :param postings: the process's ``engine.postings.PostingArrays``.
        :param vector: the query vector.
        :param filters: ``{field: value}`` every call must have (values None or empty are not filters).
        :param wanted: how many calls at most.
        :param fields_of: a docnum's stored fields (``engine.stored.StoredFieldReader.fields``: read only when
            asked for beyond the id); the searcher's own ``stored_fields`` when None.
        """
        fields_of = fields_of or searcher.stored_fields
        store = self.store()
        snapshot = store.snapshot() if store is not None else None
        if snapshot is None or snapshot.count == 0:
            return []
        rows, similarities = self.ranked_rows(snapshot, vector, wanted)
        close = int(np.count_nonzero(similarities >= MIN_SIMILARITY))  # best first, so the close ones lead
        leaves = [(leaf.reader(), offset) for leaf, offset in searcher.leaf_searchers()]
        tables = [self.passages.table(reader) for reader, _ in leaves]
        if all(table is not None for table in tables):
            holders = _holders_by_table(leaves, tables, snapshot.digests[rows[:close]])
        else:
            holders = _holders_by_term(leaves, postings, searcher.schema["passage"], snapshot.digests, rows[:close])
        wanted_filters = {name: value for name, value in filters.items() if value}
        hits = []
        for place, similarity in enumerate(similarities[:close].tolist()):
            if len(hits) >= wanted:
                break
            for docnum in holders(place):
                stored = fields_of(docnum)
                if all(stored.get(name) == value for name, value in wanted_filters.items()):
                    hits.append((similarity, stored, docnum))
        hits.sort(key=lambda hit: (-hit[0], hit[1]["id"]))
        return hits[:wanted]

    @property
    def reranker(self):
        """The learned re-ranker in use (``engine.rerank.LinearReranker``), or None: reciprocal rank fusion."""
        return self._reranker

    def reranked(self, lexical, dense, vector, word_count, coverage_of):
        """Every call of either ranking, scored by the re-ranker (which must be set).

        :param lexical: ``(score, stored, docnum)`` best first.
        :param dense: ``(similarity, stored, docnum)`` best first.
        :param vector: the query vector (for the similarity of calls only the words found).
        :param word_count: words in the query.
        :param coverage_of: ``(docnums, their stored fields)`` → the share of the query each call holds anywhere
            (by its words' weight), of its words in its title, and of its pairs of adjacent words side by side
            (``engine.coverage.coverage`` over the search's plan).
        :returns: as :func:`fuse`: ``(score, stored, docnum)`` in any order, and ``{docnum: similarity}`` of the
            calls the meaning ranked.
        """
        docnums, matrix, stored_of = self.candidates(lexical, dense, vector, word_count, coverage_of)
        scores = FUSED_SCALE / (1.0 + np.exp(-self._reranker.scores(matrix)))
        hits = [(float(score), stored_of[docnum], docnum) for score, docnum in zip(scores.tolist(), docnums)]
        return hits, {docnum: similarity for similarity, _, docnum in dense}

    def candidates(self, lexical, dense, vector, word_count, coverage_of):
        """The calls of both rankings with the re-ranker's features (``engine.rerank.candidate_features``).

        :returns: ``(docnums, feature matrix, {docnum: stored fields})``.
        """
        stored_of = {docnum: stored for _, stored, docnum in dense}
        stored_of.update((docnum, stored) for _, stored, docnum in lexical)
        store = self.store()
        snapshot = store.snapshot() if store is not None else None  # once: each snapshot() reads the count file
        docnums, matrix = candidate_features(
            [(docnum, score) for score, _, docnum in lexical],
            [(docnum, similarity) for similarity, _, docnum in dense],
            # The index stores each call's passage digest, the key of its vector.
            lambda docnum: self.similarity_of(vector, stored_of[docnum]["passage"], snapshot),
            word_count,
            lambda docnums: coverage_of(docnums, [stored_of[docnum] for docnum in docnums]),
            (SCORE_DIGITS, SIMILARITY_DIGITS),
        )
        return docnums, matrix, stored_of

    def similarity_of(self, vector, digest, snapshot=None):
        """The exact similarity of one call's passage to the query vector, or None when it has no vector yet.

        :param snapshot: the vectors to read (``VectorStore.snapshot``); by default, taken now.
        """
        if snapshot is None:
            store = self.store()
            snapshot = store.snapshot() if store is not None else None
        row = snapshot.row_of(digest) if snapshot is not None else None
        if row is None:
            return None
        value = float(np.asarray(snapshot.vectors[row], dtype=np.float64) @ vector.astype(np.float64))
        return round(value, SIMILARITY_DIGITS)


def _holders_by_table(leaves, tables, digests):
    """The live calls holding each of the closest passages, found in each segment's :mod:`engine.passages` table.

    :param leaves: ``(segment reader, offset of its first document)`` in order.
    :param tables: each segment's ``SegmentPassages``.
    :param digests: the closest rows' raw digests, best first.
    :returns: a function from a row's place in ``digests`` to the whole-index document numbers holding it,
        segment by segment, in document order (each match checked against the whole digest only when asked for).
    """
    keys = digest_prefix_keys(digests)
    spans = []
    for (reader, offset), table in zip(leaves, tables):
        starts, ends = table.holders(keys)
        if (ends > starts).any():
            spans.append((reader, offset, table.docnums, starts.tolist(), ends.tolist()))
    columns = {}

    def holders(place):
        found, whole = [], digests[place].tobytes().hex().encode("ascii")
        for reader, offset, docnums, starts, ends in spans:
            if ends[place] == starts[place]:
                continue
            if reader not in columns:
                columns[reader] = (whole_digests(reader), live_mask(reader))
            column, mask = columns[reader]
            for docnum in docnums[starts[place] : ends[place]].tolist():
                if column[docnum] == whole and (mask is None or mask[docnum]):
                    found.append(offset + docnum)
        return found

    return holders


def _holders_by_term(leaves, postings, field, digests, rows):
    """As :func:`_holders_by_table`, for an index with a segment written before the passage column: each row's
    digest looked up as a term of the ``passage`` field, only when asked for."""

    def holders(place):
        term = field.to_bytes(digests[rows[place]].tobytes().hex())
        found = []
        for reader, offset in leaves:
            if ("passage", term) not in reader:  # most segments lack a passage: skip the posting cache for them
                continue
            ids, mask = postings.get(reader, "passage", term).ids, live_mask(reader)
            found += [offset + int(docnum) for docnum in ids if mask is None or mask[docnum]]
        return found

    return holders


def fuse(lexical, dense):
    """Weighted reciprocal rank fusion of the words' ranking and the meaning's.

    Calls with equal scores share a rank (the rank of the first of them), so a tie among the words' hits stays a
    tie after fusion and is still broken by the caller's products, then by id.

    :param lexical: ``(score, stored, docnum)`` best first (the words' order: score to 2 decimals, then id).
    :param dense: ``(similarity, stored, docnum)`` best first.
    :returns: ``(fused score, stored, docnum)`` for every call in either list (scaled by ``FUSED_SCALE``), and
        ``{docnum: similarity}`` for the calls the meaning ranked.
    """
    fused, stored_of = {}, {}
    for rank, (_, stored, docnum) in _shared_ranks(lexical, SCORE_DIGITS):
        fused[docnum] = fused.get(docnum, 0.0) + LEXICAL_WEIGHT / (RRF_K + rank)
        stored_of[docnum] = stored
    similarity = {}
    for rank, (value, stored, docnum) in _shared_ranks(dense, SIMILARITY_DIGITS):
        fused[docnum] = fused.get(docnum, 0.0) + DENSE_WEIGHT / (RRF_K + rank)
        stored_of[docnum] = stored
        similarity[docnum] = value
    hits = [(FUSED_SCALE * score, stored_of[docnum], docnum) for docnum, score in fused.items()]
    return hits, similarity


def _shared_ranks(ranking, digits):
    """``(rank, item)`` for a ranking best first, equal scores (to ``digits``) sharing the first one's rank."""
    previous, rank = None, 0
    for position, item in enumerate(ranking, start=1):
        score = round(item[0], digits)
        if score != previous:
            previous, rank = score, position
        yield rank, item

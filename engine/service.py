"""The search service: query text in, ranked calls with escaped snippets and reasons out.

It imports no Flask: the agents' page, the widget, the JSON API, the command line and the
benchmarks all call :meth:`SearchService.search`. A search plans the query
(:mod:`engine.plan`), shapes it (:mod:`engine.shape`), evaluates one or two passes over the
posting arrays (:mod:`engine.evaluate`), re-ranks by outcome and caller, and formats the page of
hits (:mod:`engine.explain`).

One service is shared by every thread of a process: each search leases the searcher it runs on
(:mod:`engine.leases`), so a searcher replaced after a write is closed only when its last search ends;
posting lists, stored fields and Whoosh's own matchers read segment files without a shared cursor
(``index.whoosh_compat``, ``index.mapped_files``); the caches take their own locks.
"""

import time
from dataclasses import dataclass, replace
from functools import partial

from engine import customers, rerank, suggest
from engine.cache import ResultCache
from engine.coverage import coverage
from engine.evaluate import evaluate, terms_on_documents
from engine.explain import did_you_mean, format_hit
from engine.leases import SearcherLeases
from engine.plan import MAX_QUERY_WORDS, is_blank, plan_query
from engine.postings import DEFAULT_BUDGET_MB, PostingArrays
from engine.query import Term
from engine.results import COUNT_UP_TO, InvalidSearchError, SearchResult, reported_total
from engine.scoring import IndexStatistics
from engine.semantic import FUSION_DEPTH, fuse, meant_text
from engine.shape import TEXT_FIELD, TRIM_COMMON_UP_TO, build_query, query_shape
from engine.stored import StoredFieldReader
from index.schema import NO_VALUE

MAX_LIMIT = 50
# The fields whose values are counted among all matches when facets are asked for.
FACET_FIELDS = ("product", "category")
# Hits beyond the page fetched so that equal scores at its edge are ordered by id, not by segment layout.
TIE_MARGIN = 5
MAX_TIE_WINDOW = 500
# Up to this many words every word is required first; longer queries (a pasted error message) go
# straight to "any word", which is where they end up anyway, and save the first pass.
ALL_WORDS_UP_TO = 5
# Scores that agree to this many decimals count as equal: servers whose segments hold different numbers
# of deleted documents compute idf a hair apart, and must still agree on the order.
SCORE_DIGITS = 2
RESULT_CACHE_SIZE = 1024
FILTER_FIELDS = ("product", "category", "customer_id", "status", "priority")


@dataclass(frozen=True)
class OpenIndex:
    """The index generation a search runs on: its name, Whoosh searcher, whole-index statistics and stored fields."""

    name: str
    index: object
    searcher: object
    stats: IndexStatistics
    fields: StoredFieldReader


@dataclass
class _Pass:
    """The hits of the passes of one search, as ``(score, docnum)`` from a pass and ``(score, stored fields,
    docnum)`` once the last pass is chosen, and what they found."""

    hits: list
    total: int
    timed_out: bool
    facets: dict
    postings: tuple = (0, 0)
    widened: bool = False


def _ranked(hits, boosts, products=frozenset()):
    """Final order: score (with any outcome boost) to ``SCORE_DIGITS``, then calls about the caller's products
    (``products`` in lower case), then id, so that every server, whatever its segment layout, lists equal scores
    in the same order."""
    boosted = [(hit, boosts.get(hit[1]["id"], 0.0)) for hit in hits]
    boosted.sort(
        key=lambda pair: (
            -round(pair[0][0] * (1.0 + pair[1]), SCORE_DIGITS),
            bool(products) and pair[0][1]["product"].casefold() not in products,
            pair[0][1]["id"],
        )
    )
    return boosted


class SearchService:
    """Searches the index in use; one per process, shared by its threads."""

    def __init__(
        self,
        home,
        vocabulary_cache=None,
        synonyms_source=None,
        time_limit_ms=300,
        outcomes_source=None,
        result_cache_size=RESULT_CACHE_SIZE,
        posting_arrays_mb=DEFAULT_BUDGET_MB,
        owned_products=None,
        semantic=None,
    ):
        """
        :param home: the ``index.generations.IndexHome`` to search.
        :param vocabulary_cache: an ``engine.vocabulary.VocabularyCache``, or None for no typo
            and sound-alike suggestions.
        :param synonyms_source: a callable returning the current synonyms mapping, or None.
        :param time_limit_ms: after this long a search returns the best hits found so far.
        :param outcomes_source: a callable returning the current ``OutcomeBoosts``, or None.
        :param result_cache_size: how many recent results to keep for repeated searches (0: none).
        :param posting_arrays_mb: how many megabytes of decoded posting lists to keep for searches.
        :param owned_products: a callable from a customer id to the product names their record says they own
            (ranked like the products they called about), or None.
        :param semantic: an ``engine.semantic.SemanticStage`` to rank by meaning too, or None for words only.
        """
        self.results = ResultCache(result_cache_size)
        self.postings = PostingArrays(posting_arrays_mb)
        self.home = home
        self.vocabulary_cache = vocabulary_cache
        self.synonyms_source = synonyms_source
        self.outcomes_source = outcomes_source
        self.owned_products = owned_products
        self.semantic = semantic
        self.time_limit_s = time_limit_ms / 1000
        self.leases = SearcherLeases(home, self._new_searcher)

    # The index generation in use

    def lease(self):
        """Hold the index in use while a ``with`` block searches it (see :mod:`engine.leases`).

        :returns: a context manager yielding the :class:`OpenIndex`.
        :raises IndexMissingError: when no index was built.
        """
        return self.leases.lease()

    def opened(self):
        """The index in use, reopened when it moved on, without a lease: for callers searching from one
        thread only (tools, tests); a server's threads use :meth:`lease`.

        :raises IndexMissingError: when no index was built.
        """
        return self.leases.current()

    @staticmethod
    def _new_searcher(name, index):
        searcher = index.searcher()
        return OpenIndex(name, index, searcher, IndexStatistics(searcher), StoredFieldReader(searcher))

    def close(self):
        """Stop using the searcher (closed when its last search ends; reopened by the next, e.g. after a fork)."""
        self.leases.retire()

    def generation_key(self, opened):
        """A value that changes whenever the searched index changes (or, ranking by meaning, its vectors)."""
        return (opened.name, opened.searcher.reader().generation(), self.vector_count())

    def vector_count(self):
        """How many passage vectors the search can use (0 when ranking by meaning is off or has no model)."""
        store = self.semantic.store() if self.semantic is not None else None
        return store.committed_count() if store is not None else 0

    def sources(self, opened):
        """What a search's answer depends on besides the index: ``(vocabulary, synonyms, outcomes)``,
        each the object in use now (a source hands out a new object when it changes)."""
        vocabulary = None
        if self.vocabulary_cache is not None:
            vocabulary = self.vocabulary_cache.get(opened.searcher, self.generation_key(opened), self.home)
        synonyms = self.synonyms_source() if self.synonyms_source else None
        outcomes = self.outcomes_source() if self.outcomes_source else None
        return vocabulary, synonyms, outcomes

    def plan(self, text, opened, max_words=MAX_QUERY_WORDS, sources=None):
        """Plan a query against the index (see ``engine.plan.plan_query``).

        :param sources: the ``sources()`` to plan with, or None for the ones in use now.
        """
        vocabulary, synonyms, _ = sources or self.sources(opened)
        stats = opened.stats
        return plan_query(text, lambda term: stats.doc_frequency(TEXT_FIELD, term) > 0, vocabulary, synonyms, max_words)

    # Searching

    def search(
        self,
        text,
        product=None,
        category=None,
        limit=10,
        offset=0,
        facets=False,
        customer=None,
        status=None,
        priority=None,
        caller=None,
    ):
        """Rank calls for a query.

        :param text: the query as typed.
        :param product: only calls of this product, if given.
        :param category: only calls of this category, if given.
        :param customer: only calls of this customer id, if given.
        :param status: only calls with this status (open, pending, resolved), if given.
        :param priority: only calls with this priority, if given.
        :param caller: the customer on the line: among equally good matches, calls about this
            customer's products come first (said in ``matches`` as ``caller-product``).
        :param limit: how many hits (1–50).
        :param offset: how many ranked hits to skip.
        :param facets: also count matches by product and category.
        :returns: a :class:`engine.results.SearchResult`.
        :raises InvalidSearchError: for an empty query or a limit/offset out of range.
        """
        started = time.perf_counter()
        deadline = time.monotonic() + self.time_limit_s
        if not isinstance(text, str) or is_blank(text):
            raise InvalidSearchError("the query 'q' is empty: type a few words to search for", "q")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidSearchError(f"'limit' must be between 1 and {MAX_LIMIT}", "limit")
        if offset < 0:
            raise InvalidSearchError("'offset' must be 0 or more", "offset")
        with self.lease() as opened:
            sources = self.sources(opened)
            filters = dict(zip(FILTER_FIELDS, (product, category, customer, status, priority)))
            owned = frozenset(self.owned_products(caller)) if caller and self.owned_products else frozenset()
            asked = (text, tuple(filters.items()), limit, offset, facets, caller, owned)
            key = (self.generation_key(opened), *asked)
            cached = self.results.get(key, sources)
            if cached is not None:
                return replace(cached, took_ms=round((time.perf_counter() - started) * 1000, 2))
            result = self._search(opened, sources, text, filters, limit, offset, facets, (caller, owned), deadline)
        result.took_ms = round((time.perf_counter() - started) * 1000, 2)
        if not result.timed_out:
            self.results.put(key, sources, result)
        return result

    def warm_up(self, text):
        """Search ``text`` once by words only, keeping no result: the word lists, the vocabulary and the index's
        first pages are in this process's memory afterwards.

        The model is left unloaded: under gunicorn this runs in the master before it forks the workers, and a
        model's threads do not survive a fork (``engine.embedding.vectors_name``). Each worker loads its own.
        """
        with self.lease() as opened:
            sources = self.sources(opened)
            filters = dict.fromkeys(FILTER_FIELDS)
            deadline = time.monotonic() + self.time_limit_s
            self._search(opened, sources, text, filters, 10, 0, False, (None, frozenset()), deadline, by_meaning=False)

    def _search(self, opened, sources, text, filters, limit, offset, facets, caller, deadline, by_meaning=True):
        caller, owned = caller
        plan = self.plan(text, opened, sources=sources)
        wanted = offset + limit
        boosts = sources[2].boosts(plan.term_sources.keys()) if sources[2] else {}
        # With feedback to apply, rank a wider window so a boosted call can move up into view.
        window = max(wanted * 3, 30) if boosts else wanted + TIE_MARGIN
        by_meaning = by_meaning and self.semantic is not None
        meant = meant_text(plan, sources[0]) if by_meaning else plan.text
        vector = self._query_vector(plan, meant) if by_meaning else None
        if vector is not None:
            window = max(window, FUSION_DEPTH)
        found = self._passes(opened, plan, filters, window, wanted, facets, deadline)
        similarity = {}
        if vector is not None:
            depth = max(wanted, FUSION_DEPTH)
            found.hits, similarity, found.total = self._fused(opened, found, vector, filters, depth, plan)
        # The caller's products: those they called about and those their record says they own (issue #18).
        products = customers.products_of(opened.searcher, caller) | owned if caller else set()
        products = {product.casefold() for product in products}
        page = _ranked(found.hits, boosts, products)[offset:wanted]
        matched = self.matched_terms(opened, [hit[2] for hit, _ in page], plan.term_sources.keys())
        hits = [format_hit(plan, stored, score, boost, matched[docnum]) for (score, stored, docnum), boost in page]
        for hit, ((_, _, docnum), _) in zip(hits, page):
            if docnum in similarity:
                meaning = {"query_term": meant, "matched": "", "how": "meaning"}
                hit["matches"].append({**meaning, "similarity": round(similarity[docnum], 3)})
        for hit in hits:
            if hit["product"].casefold() in products:
                hit["matches"].append({"query_term": caller, "matched": hit["product"], "how": "caller-product"})
        total, total_exact = reported_total(found.total, found.timed_out)
        return SearchResult(
            query=plan.text,
            total=total,
            total_exact=total_exact,
            took_ms=0.0,
            hits=hits,
            did_you_mean=did_you_mean(plan, hits),
            facets=_facet_counts(found.facets) if facets else {},
            timed_out=found.timed_out,
            widened=found.widened,
            postings_scored=found.postings[0],
            postings_total=found.postings[1],
        )

    def _query_vector(self, plan, meant):
        """The vector of what the agent meant (``meant``: :func:`engine.semantic.meant_text`), or None when ranking
        by meaning is off or has no model."""
        if self.semantic is None or not plan.words:
            return None
        return self.semantic.query_vector(meant)

    def _fused(self, opened, found, vector, filters, depth, plan):
        """The words' hits fused with the calls closest in meaning: by the re-ranker when the model has one and
        the query is one it was fitted for (``rerank.fits``), else by reciprocal rank fusion (``semantic.fuse``).

        :returns: ``(hits, {docnum: similarity}, total)``; the total counts the calls found by meaning alone too.
        """
        dense = self.semantic.dense_hits(opened.searcher, self.postings, vector, filters, depth, opened.fields.fields)
        lexical = sorted(found.hits, key=lambda hit: (-round(hit[0], SCORE_DIGITS), hit[1]["id"]))
        if self.semantic.reranker is not None and rerank.fits(len(plan.words), dense):
            coverage_of = partial(coverage, opened.searcher, opened.stats, self.postings, plan)
            hits, similarity = self.semantic.reranked(lexical, dense, vector, len(plan.words), coverage_of)
        else:
            hits, similarity = fuse(lexical, dense)
        lexical_docnums = {hit[2] for hit in found.hits}
        return hits, similarity, found.total + sum(1 for hit in dense if hit[2] not in lexical_docnums)

    def _passes(self, opened, plan, filters, window, wanted, facets, deadline):
        """Every word required first (for a short query of several words), then any word when that found too few."""
        # Only a short query has its common words made scoring-only (see engine.shape).
        shape = query_shape(plan, opened.stats, short=len(plan.words) <= TRIM_COMMON_UP_TO)
        terms = tuple(Term(name, value) for name, value in filters.items() if value)
        facet_fields = FACET_FIELDS if facets else ()
        found = None
        if 1 < len(shape.kept) and len(plan.words) <= ALL_WORDS_UP_TO:
            tree = build_query(plan, True, shape)
            found = self._collect(opened, tree, terms, window, wanted, deadline, facet_fields)
        if found is None or (len(shape.kept) > 1 and len(found.hits) < wanted and not found.timed_out):
            first = found.postings if found is not None else (0, 0)
            tree = build_query(plan, False, shape)
            found = self._collect(opened, tree, terms, window, wanted, deadline, facet_fields)
            found.widened = len(shape.kept) > 1
            found.postings = (first[0] + found.postings[0], first[1] + found.postings[1])
        # Stored fields of the pass kept only: a first pass that found too few is not read.
        found.hits = [(score, opened.fields.fields(docnum), docnum) for score, docnum in found.hits]
        return found

    def _collect(self, opened, tree, filters, window, wanted, deadline, facet_fields):
        """Collect the top ``window`` hits as ``(score, docnum)``; when equal scores run past the page's edge,
        collect again with ``MAX_TIE_WINDOW`` so the tie-break by id sees the whole group of equals (one more
        pass: a group that runs past a small window usually runs past a larger one too)."""
        searcher = opened.searcher
        while True:
            found = evaluate(
                searcher, opened.stats, self.postings, tree, filters, window, deadline, facet_fields, COUNT_UP_TO
            )
            hits = found.hits
            full = len(hits) == window
            if found.timed_out or not full or window >= MAX_TIE_WINDOW or wanted > len(hits):
                break
            if round(hits[wanted - 1][0], SCORE_DIGITS) != round(hits[window - 1][0], SCORE_DIGITS):
                break
            window = MAX_TIE_WINDOW
        return _Pass(hits, found.total, found.timed_out, found.facets, (found.postings_scored, found.postings_total))

    def matched_terms(self, opened, docnums, terms):
        """Which of the ``text`` terms each of the page's calls holds (for "why it matched" and highlights)."""
        return terms_on_documents(opened.searcher, self.postings, docnums, TEXT_FIELD, terms)

    # Beside the search box

    def customer_calls(self, customer_id):
        """A customer's calls, open first (see :func:`engine.customers.customer_calls`)."""
        with self.lease() as opened:
            return customers.customer_calls(opened.searcher, customer_id)

    def customer_context(self, customer_id):
        """A customer's calls as the page and API show them (see :func:`engine.customers.customer_context`)."""
        with self.lease() as opened:
            return customers.customer_context(opened.searcher, customer_id)

    def suggest_from_text(self, text, limit=5):
        """The calls most like a free-text description (see :func:`engine.suggest.suggest_from_text`)."""
        return suggest.suggest_from_text(self, text, limit)


def _facet_counts(counted):
    """Facet counts as the API shows them: most calls first, the "no value" placeholder left out."""
    shown = {}
    for name in FACET_FIELDS:
        pairs = [(value, count) for value, count in counted.get(name, {}).items() if value != NO_VALUE]
        shown[name] = dict(sorted(pairs, key=lambda pair: (-pair[1], pair[0])))
    return shown

"""The search service: query text in, ranked calls with escaped snippets and reasons out.

It imports no Flask: the agents' page, the widget, the JSON API and the benchmarks all
call :meth:`SearchService.search`.
"""

import threading
import time
from dataclasses import dataclass, field, replace
from html import escape

from whoosh import query as Q
from whoosh import sorting
from whoosh.collectors import FacetCollector, TimeLimit
from whoosh.reading import TermNotFound

from analyzers.spelling import us_spelling
from app import whoosh_patches
from app.alternatives import BestOf
from app.array_search import search_arrays, terms_on_documents
from app.collectors import DeadlineCollector, SoundTopCollector
from app.conjunction import AllOf
from app.disjunction import AnyOf
from app.posting_arrays import DEFAULT_BUDGET_MB, PostingArrays
from app.query_plan import MAX_QUERY_WORDS, is_blank, plan_query
from app.result_cache import ResultCache
from app.scoring import TabulatedBM25F
from app.snippets import highlight, surface_words
from app.unscored import Unscored
from indexer.schema import NO_VALUE

MAX_LIMIT = 50
# The fields whose values are counted among all matches when facets are asked for.
FACET_FIELDS = ("product", "category")
# The fields of a customer's calls shown beside the search (page and customers API).
CUSTOMER_CALL_FIELDS = (
    "id",
    "title",
    "problem",
    "resolution",
    "product",
    "category",
    "created_at",
    "status",
    "priority",
    "opened_at",
    "escalated_at",
    "customer_name",
)
SUGGEST_MAX_WORDS = 300
# Hits beyond the page fetched so that equal scores at its edge are ordered by id, not by segment layout.
TIE_MARGIN = 5
MAX_TIE_WINDOW = 500
COUNT_UP_TO = 100
# A word in more than this share of the calls (and of at least COMMON_MIN_DOCS) is "common".
COMMON_SHARE = 0.04
COMMON_MIN_DOCS = 200
VERY_COMMON_SHARE = 0.2
FINDING_WHEN_ALL_COMMON = 2
TRIM_COMMON_UP_TO = 5
# Up to this many words every word is required first; longer queries (a pasted error message) go
# straight to "any word", which is where they end up anyway, and save the first pass.
ALL_WORDS_UP_TO = 5
# Scores that agree to this many decimals count as equal: servers whose segments hold different numbers
# of deleted documents compute idf a hair apart, and must still agree on the order.
SCORE_DIGITS = 2
SUGGEST_KEY_TERMS = 12
RESULT_CACHE_SIZE = 1024
RESOLUTION_PREVIEW_CHARS = 600


class InvalidSearchError(ValueError):
    """A search request breaks a rule; ``field`` names the parameter."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclass
class SearchResult:
    """What one search returns."""

    query: str
    total: int
    took_ms: float
    hits: list
    did_you_mean: dict = None
    facets: dict = field(default_factory=dict)
    timed_out: bool = False
    widened: bool = False
    total_exact: bool = True


def _word_group(word_plan):
    options = []
    for alternative in word_plan.alternatives:
        terms = [Q.Term("text", term) for term in alternative.terms]
        option = terms[0] if len(terms) == 1 else Q.And(terms)
        option.boost = alternative.weight
        options.append(option)
    return options[0] if len(options) == 1 else BestOf(options)


def build_query(plan, require_all, shape=None):
    """The Whoosh query for a plan: every word required, or any word enough.

    With any word enough, walking the postings of very common words is what makes Whoosh slow;
    in a short query those words only add to the score of calls found by the others (``AnyOf``
    reaches them by skipping). When every word is common, the rarest words find the calls.

    :param plan: a ``QueryPlan``.
    :param require_all: True for AND across words, False for OR.
    :param shape: a :class:`QueryShape` (which words are left out, which only add to the score),
        or None to use every word alike.
    :returns: a Whoosh query, or ``NullQuery`` when no word is left.
    """
    groups = [_word_group(word_plan) for word_plan in plan.words]
    if shape is not None:
        groups = [groups[i] for i in shape.kept]
    if not groups:
        return Q.NullQuery
    if len(groups) == 1:
        return groups[0]
    if require_all:
        return AllOf(groups)
    if shape is None or not shape.scoring_only:
        return AnyOf(groups)
    position = {index: place for place, index in enumerate(shape.kept)}
    finding = [groups[position[i]] for i in shape.kept if i not in shape.scoring_only]
    scoring = [groups[position[i]] for i in shape.kept if i in shape.scoring_only]
    return AnyOf(finding, scoring)


@dataclass(frozen=True)
class QueryShape:
    """Which typed words (by position in the plan) a search uses, and how.

    ``kept``: the words searched for. In a short query a word in more than ``VERY_COMMON_SHARE``
    of the calls is left out (its BM25 weight is a small fraction of a rare word's, and its postings
    are the longest), unless every word is that common; a long query keeps every word.
    ``scoring_only``: kept words that, in the any-word pass of a short query, only add to the
    score of calls found by the others: the words in more than ``COMMON_SHARE`` of the calls,
    or, when every kept word is that common, all but the ``FINDING_WHEN_ALL_COMMON`` rarest.
    """

    kept: tuple
    scoring_only: frozenset


def query_shape(plan, searcher, short):
    """The :class:`QueryShape` of a plan against the current index.

    :param plan: a ``QueryPlan``.
    :param searcher: the searcher whose document frequencies decide.
    :param short: whether the query is short enough to leave out or trim its common words.
    """
    every_word = tuple(range(len(plan.words)))
    if not short:
        return QueryShape(every_word, frozenset())
    calls = searcher.doc_count()
    # A word is as common as its most common alternative: a typo's correction, say, is searched too.
    frequencies = [
        max(min(searcher.doc_frequency("text", term) for term in option.terms) for option in word.alternatives)
        for word in plan.words
    ]
    very_common = max(COMMON_MIN_DOCS, VERY_COMMON_SHARE * calls)
    kept = tuple(i for i in every_word if frequencies[i] <= very_common) or every_word
    if len(kept) < 2:
        return QueryShape(kept, frozenset())
    common = max(COMMON_MIN_DOCS, COMMON_SHARE * calls)
    scoring_only = frozenset(i for i in kept if frequencies[i] > common)
    if len(scoring_only) == len(kept):
        rarest = sorted(kept, key=lambda i: (frequencies[i], i))[:FINDING_WHEN_ALL_COMMON]
        scoring_only = frozenset(kept) - set(rarest)
    return QueryShape(kept, scoring_only)


def _how(typed, alternative, surface):
    if alternative.how != "exact":
        return alternative.how
    if surface.replace("'", "").replace("\u2019", "") == typed:
        return "exact"
    if us_spelling(surface) == us_spelling(typed) and surface != typed:
        return "spelling-variant"
    return "stem"


def explain_matches(plan, matched_terms, texts):
    """Why a call matched: one entry per (typed word, matched word), strongest first.

    :param plan: the ``QueryPlan``.
    :param matched_terms: the index terms found in this call.
    :param texts: the call's stored texts, to find each term's word as written.
    :returns: (list of {"query_term", "matched", "how"}, set of terms to highlight).
    """
    sources = plan.term_sources
    terms = {term for term in matched_terms if term in sources}
    surfaces = surface_words(texts, terms)
    matches, seen = [], set()
    for term in terms:
        typed, alternative = sources[term]
        surface = surfaces.get(term, alternative.word)
        key = (typed, surface)
        if key in seen:
            continue
        seen.add(key)
        matches.append({"query_term": typed, "matched": surface, "how": _how(typed, alternative, surface)})
    order = {
        "exact": 0,
        "stem": 1,
        "spelling-variant": 2,
        "synonym": 3,
        "typo": 4,
        "sounds-like": 5,
        "caller-product": 6,
    }
    matches.sort(key=lambda match: (order[match["how"]], match["query_term"]))
    return matches, terms


def _did_you_mean(plan, hits):
    corrected = plan.corrected_text()
    if not corrected:
        return None
    used = any(match["how"] == "typo" for hit in hits for match in hit["matches"])
    if not used:
        return None
    corrections = [{"from": w.typed, "to": w.correction} for w in plan.words if w.correction]
    changed = {c["to"] for c in corrections}
    html = " ".join(f"<mark>{escape(word)}</mark>" if word in changed else escape(word) for word in corrected.split())
    return {"text": corrected, "html": html, "corrections": corrections}


def matched_terms(searcher, docnums, terms):
    """Which of ``terms`` each of a few documents contains, read from the postings.

    Cheaper than asking the collector to track terms for every document it scores.

    :param searcher: the searcher the document numbers belong to.
    :param docnums: document numbers (the page of hits).
    :param terms: index terms of the ``text`` field.
    :returns: a dict from document number to the set of its terms among ``terms``.
    """
    found = {docnum: set() for docnum in docnums}
    ordered = sorted(found)
    if not ordered:
        return found
    reader = searcher.reader()
    for term in terms:
        try:
            matcher = reader.postings("text", term)
        except TermNotFound:
            continue
        for docnum in ordered:
            if not matcher.is_active():
                break
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                found[docnum].add(term)
    return found


def count_matches(searcher, results, up_to):
    """How many calls match the query of ``results``, counted up to ``up_to``.

    Past a hundred the exact figure helps nobody on a call, and counting costs: Whoosh's own
    ``docs_for_query`` reads every posting of every word of an intersection into sets first.
    Stepping a matcher stops at ``up_to``. Results that know their length (the array path's, and
    those that counted facets) are reported the same way, so every path gives the same total.

    :returns: ``(count, exact)``; ``exact`` is False when there are at least ``up_to`` matches.
    """
    if results.has_exact_length():
        found = len(results)
        return (found, True) if found < up_to else (up_to, False)
    count = 0
    for leaf, _ in searcher.leaf_searchers():
        matcher = results.q.matcher(leaf, leaf.boolean_context())
        while matcher.is_active():
            count += 1
            if count >= up_to:
                return count, False
            matcher.next()
    return count, True


def _caller_first_among_equals(ranked, products):
    """Reorder hits so that, among equal scores, calls about the caller's products come first.

    The order between different scores never changes: a better textual match stays above.
    """
    return sorted(
        ranked,
        key=lambda pair: (
            -round(pair[0].score * (1.0 + pair[1]), SCORE_DIGITS),
            pair[0]["product"] not in products,
            pair[0]["id"],
        ),
    )


def _display(value):
    return "" if value == NO_VALUE else value


class SearchService:
    """Searches the index in use; one per process, safe to share between threads."""

    def __init__(
        self,
        home,
        vocabulary_cache=None,
        synonyms_source=None,
        time_limit_ms=300,
        outcomes_source=None,
        result_cache_size=RESULT_CACHE_SIZE,
        posting_arrays_mb=DEFAULT_BUDGET_MB,
        use_arrays=True,
    ):
        """
        :param home: the ``IndexHome`` to search.
        :param vocabulary_cache: an ``app.vocabulary.VocabularyCache``, or None for no typo
            and sound-alike suggestions.
        :param synonyms_source: a callable returning the current synonyms mapping, or None.
        :param time_limit_ms: after this long a search returns the best hits found so far.
        :param outcomes_source: a callable returning the current ``OutcomeBoosts``, or None.
        :param result_cache_size: how many recent results to keep for repeated searches (0: none).
        :param posting_arrays_mb: how many megabytes of decoded posting lists to keep for searches.
        :param use_arrays: False to run every pass through Whoosh's matchers (for comparisons).
        """
        whoosh_patches.install()
        self.results = ResultCache(result_cache_size)
        self.postings = PostingArrays(posting_arrays_mb)
        self.use_arrays = use_arrays
        self.home = home
        self.vocabulary_cache = vocabulary_cache
        self.synonyms_source = synonyms_source
        self.outcomes_source = outcomes_source
        self.time_limit_s = time_limit_ms / 1000
        self._lock = threading.Lock()
        self._index = None
        self._index_name = None
        self._searcher = None
        self._retired = None

    def searcher(self):
        """The current searcher, reopened when the index moved to a new generation or commit.

        :raises IndexMissingError: when no index was built.
        """
        with self._lock:
            name = self.home.current_name()
            if self._searcher is None or name != self._index_name:
                self._retire()
                self._index = self.home.open_index()
                self._index_name = name
                self._searcher = self._index.searcher(weighting=TabulatedBM25F())
            elif not self._searcher.up_to_date():
                # A new reader rather than Whoosh's refresh(): when a merge deletes a segment file
                # while refresh() opens the new reader, its retry reuses readers it already closed.
                self._retire()
                self._searcher = self._index.searcher(weighting=TabulatedBM25F())
            return self._searcher

    def _retire(self):
        """Close the searcher before last and keep the last one open a while longer, so a search
        still running on it in another thread finishes."""
        if self._retired is not None:
            self._retired.close()
        self._retired, self._searcher = self._searcher, None

    def close(self):
        """Close the searcher (it is reopened by the next search, e.g. in a forked worker)."""
        with self._lock:
            self._retire()
            self._retire()
            self._index_name = None

    def generation_key(self, searcher):
        """A value that changes whenever the searched index changes."""
        return (self._index_name, searcher.reader().generation())

    def sources(self, searcher):
        """What a search's answer depends on besides the index: ``(vocabulary, synonyms, outcomes)``,
        each the object in use now (a source hands out a new object when it changes)."""
        vocabulary = None
        if self.vocabulary_cache is not None:
            vocabulary = self.vocabulary_cache.get(searcher, self.generation_key(searcher), self.home)
        synonyms = self.synonyms_source() if self.synonyms_source else None
        outcomes = self.outcomes_source() if self.outcomes_source else None
        return vocabulary, synonyms, outcomes

    def plan(self, text, searcher, max_words=MAX_QUERY_WORDS, sources=None):
        """Plan a query against the current index (see ``app.query_plan.plan_query``).

        :param sources: the ``sources()`` to plan with, or None for the ones in use now.
        """
        vocabulary, synonyms, _ = sources or self.sources(searcher)
        return plan_query(text, lambda term: searcher.doc_frequency("text", term) > 0, vocabulary, synonyms, max_words)

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
        :returns: a :class:`SearchResult`.
        :raises InvalidSearchError: for an empty query or a limit/offset out of range.
        """
        started = time.perf_counter()
        if not isinstance(text, str) or is_blank(text):
            raise InvalidSearchError("the query 'q' is empty: type a few words to search for", "q")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidSearchError(f"'limit' must be between 1 and {MAX_LIMIT}", "limit")
        if offset < 0:
            raise InvalidSearchError("'offset' must be 0 or more", "offset")
        searcher = self.searcher()
        sources = self.sources(searcher)
        asked = (text, product, category, limit, offset, facets, customer, status, priority, caller)
        key = (self.generation_key(searcher), *asked)
        cached = self.results.get(key, sources)
        if cached is not None:
            return replace(cached, took_ms=round((time.perf_counter() - started) * 1000, 2))
        result = self._search(searcher, sources, *asked)
        result.took_ms = round((time.perf_counter() - started) * 1000, 2)
        if not result.timed_out:
            self.results.put(key, sources, result)
        return result

    def _search(
        self, searcher, sources, text, product, category, limit, offset, facets, customer, status, priority, caller
    ):
        plan = self.plan(text, searcher, sources=sources)
        chosen = (
            ("product", product),
            ("category", category),
            ("customer_id", customer),
            ("status", status),
            ("priority", priority),
        )
        filters = [Q.Term(name, value) for name, value in chosen if value]
        restrict = None if not filters else (filters[0] if len(filters) == 1 else Q.And(filters))
        wanted = offset + limit
        boosts = self._outcome_boosts(plan, sources[2])
        # With feedback to apply, rank a wider window so a boosted call can move up into view.
        window = max(wanted * 3, 30) if boosts else wanted + TIE_MARGIN
        deadline = time.monotonic() + self.time_limit_s
        results, timed_out, widened = None, False, False
        # Only a short query has its common words made scoring-only: in a long one (a pasted paragraph)
        # the right call may share nothing but common words with it (measured: MRR fell from 0.73 to
        # 0.59 on bench.relevance).
        shape = query_shape(plan, searcher, short=len(plan.words) <= TRIM_COMMON_UP_TO)
        if 1 < len(shape.kept) and len(plan.words) <= ALL_WORDS_UP_TO:
            results, timed_out = self._collect(
                searcher, build_query(plan, True, shape), restrict, window, wanted, facets, deadline
            )
        if results is None or (len(shape.kept) > 1 and results.scored_length() < wanted and not timed_out):
            results, timed_out = self._collect(
                searcher, build_query(plan, False, shape), restrict, window, wanted, facets, deadline
            )
            widened = len(shape.kept) > 1
        ranked = self._rerank(results, boosts)
        caller_products = self.products_of(searcher, caller) if caller else set()
        if caller_products:
            ranked = _caller_first_among_equals(ranked, caller_products)
        page = ranked[offset:wanted]
        matched = self._matched_terms(searcher, [hit.docnum for hit, _ in page], plan.term_sources.keys())
        hits = [self._hit(plan, hit, boost, matched.get(hit.docnum, set())) for hit, boost in page]
        for hit in hits:
            if hit["product"] in caller_products:
                hit["matches"].append({"query_term": caller, "matched": hit["product"], "how": "caller-product"})
        if timed_out:
            total, total_exact = results.scored_length(), False
        else:
            total, total_exact = count_matches(searcher, results, COUNT_UP_TO)
        return SearchResult(
            query=plan.text,
            total=total,
            total_exact=total_exact,
            took_ms=0.0,
            hits=hits,
            did_you_mean=_did_you_mean(plan, hits),
            facets=self._facets(results) if facets else {},
            timed_out=timed_out,
            widened=widened,
        )

    def _collect(self, searcher, whoosh_query, restrict, window, wanted, facets, deadline):
        """Collect the top ``window`` hits; when equal scores run past the page's edge, collect again
        with ``MAX_TIE_WINDOW`` so the tie-break by id sees the whole group of equals (one more pass:
        a group that runs past a small window usually runs past a larger one too)."""
        while True:
            results, timed_out = self._run(searcher, whoosh_query, restrict, window, facets, deadline)
            full = results.scored_length() == window
            if timed_out or not full or window >= MAX_TIE_WINDOW or wanted > results.scored_length():
                return results, timed_out
            edge, last = results.score(wanted - 1), results.score(window - 1)
            if round(edge, SCORE_DIGITS) != round(last, SCORE_DIGITS):
                return results, timed_out
            window = MAX_TIE_WINDOW

    @staticmethod
    def products_of(searcher, customer_id):
        """The products a customer has called about (from the index)."""
        return {fields["product"] for fields in searcher.documents(customer_id=customer_id)} - {NO_VALUE}

    def customer_calls(self, customer_id):
        """A customer's calls: open and pending first (oldest first), then past ones (newest first).

        :param customer_id: the account or phone number the caller gives.
        :returns: a list of stored call fields.
        """
        searcher = self.searcher()
        calls = [dict(fields) for fields in searcher.documents(customer_id=customer_id)]
        still_open = sorted((c for c in calls if c.get("status") != "resolved"), key=lambda c: c.get("opened_at") or "")
        past = sorted(
            (c for c in calls if c.get("status") == "resolved"), key=lambda c: c.get("created_at") or "", reverse=True
        )
        return still_open + past

    def customer_context(self, customer_id):
        """A customer's calls as the agents' page and the customers API show them.

        :param customer_id: the account the caller gave.
        :returns: ``{"customer_id", "customer_name", "open", "past"}``; each call has the
            ``CUSTOMER_CALL_FIELDS``.
        """
        calls = [] if customer_id == NO_VALUE else self.customer_calls(customer_id)
        shown = [{field: call.get(field, "") for field in CUSTOMER_CALL_FIELDS} for call in calls]
        return {
            "customer_id": customer_id,
            "customer_name": next((call["customer_name"] for call in shown if call["customer_name"]), ""),
            "open": [call for call in shown if call["status"] != "resolved"],
            "past": [call for call in shown if call["status"] == "resolved"],
        }

    def suggest_from_text(self, text, limit=5):
        """The calls most like a free-text description: its key terms (typos corrected) ranked by BM25.

        :param text: the customer's description as typed during the call.
        :param limit: how many calls.
        :returns: a :class:`SearchResult` whose query lists the key terms used.
        """
        started = time.perf_counter()
        searcher = self.searcher()
        plan = self.plan(text, searcher, max_words=SUGGEST_MAX_WORDS)
        corrected = plan.corrected_text() or plan.text
        try:
            key_terms = searcher.key_terms_from_text("text", corrected, numterms=SUGGEST_KEY_TERMS)
        except ZeroDivisionError:  # Whoosh's Bo1 model divides by zero when no word of the text is indexed
            key_terms = []
        if not key_terms:
            return SearchResult(query="", total=0, took_ms=0.0, hits=[])
        top_weight = key_terms[0][1] or 1.0
        whoosh_query = Q.Or([Q.Term("text", term, boost=weight / top_weight) for term, weight in key_terms])
        results, timed_out = self._run(searcher, whoosh_query, None, limit, False, time.monotonic() + self.time_limit_s)
        page = list(results[:limit])
        terms = set(plan.term_sources) | {term for term, _ in key_terms}
        matched = self._matched_terms(searcher, [hit.docnum for hit in page], terms)
        hits = [self._hit(plan, hit, 0.0, matched.get(hit.docnum, set())) for hit in page]
        total, total_exact = (len(hits), False) if timed_out else count_matches(searcher, results, COUNT_UP_TO)
        return SearchResult(
            query=" ".join(term for term, _ in key_terms),
            total=total,
            total_exact=total_exact,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            hits=hits,
            timed_out=timed_out,
        )

    def _matched_terms(self, searcher, docnums, terms):
        if self.use_arrays:
            return terms_on_documents(searcher, docnums, "text", terms, self.postings)
        return matched_terms(searcher, docnums, terms)

    @staticmethod
    def _outcome_boosts(plan, outcomes):
        if not outcomes:
            return {}
        return outcomes.boosts(plan.term_sources.keys())

    @staticmethod
    def _rerank(results, boosts):
        """Final order: score (with any outcome boost), then id, so that every server, whatever
        its segment layout, lists equal scores in the same order."""
        boosted = [(hit, boosts.get(hit["id"], 0.0)) for hit in results]
        boosted.sort(key=lambda pair: (-round(pair[0].score * (1.0 + pair[1]), SCORE_DIGITS), pair[0]["id"]))
        return boosted

    def _run(self, searcher, whoosh_query, restrict, wanted, facets, deadline):
        if self.use_arrays:
            facet_fields = FACET_FIELDS if facets else ()
            found = search_arrays(searcher, whoosh_query, restrict, wanted, deadline, self.postings, facet_fields)
            if found is not None:
                return found
        grouped = None
        if facets:
            grouped = {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACET_FIELDS}
        if restrict is not None:
            # The deadline collector skips the collector's own filter, so the filter goes into the query
            # adding nothing to a score (see app.unscored).
            whoosh_query = Q.And([whoosh_query, Unscored(restrict)])
        # Facet counts need every match, so nothing is skipped when they are asked for.
        collector = SoundTopCollector(wanted, usequality=not grouped)
        if grouped:
            collector = FacetCollector(collector, grouped)
        limited = DeadlineCollector(collector, deadline)
        try:
            searcher.search_with_collector(whoosh_query, limited)
            return limited.results(), False
        except TimeLimit:
            return limited.results(), True

    @staticmethod
    def _facets(results):
        counts = {}
        for name in FACET_FIELDS:
            groups = results.groups(name) if name in results.facet_names() else {}
            counts[name] = dict(
                sorted(((_display(k), v) for k, v in groups.items() if k != NO_VALUE), key=lambda kv: (-kv[1], kv[0]))
            )
        return counts

    def _hit(self, plan, hit, boost=0.0, matched=frozenset()):
        stored = hit.fields()
        texts = (stored.get("title", ""), stored.get("problem", ""), stored.get("resolution", ""))
        matches, terms = explain_matches(plan, matched, texts)
        problem = stored.get("problem", "")
        resolution = stored.get("resolution", "")
        snippet_source = problem or stored.get("title", "")
        return {
            "id": stored["id"],
            "title": stored.get("title", ""),
            "title_html": highlight(stored.get("title", ""), terms, size=1000),
            "score": round(hit.score * (1.0 + boost), 4),
            "outcome_boost": round(boost, 4),
            "snippet": highlight(snippet_source, terms),
            "resolution": resolution[:RESOLUTION_PREVIEW_CHARS]
            + ("…" if len(resolution) > RESOLUTION_PREVIEW_CHARS else ""),
            "product": _display(stored.get("product", "")),
            "category": _display(stored.get("category", "")),
            "created_at": stored.get("created_at", ""),
            "tags": stored.get("tags", []),
            "resolved": stored.get("resolved", True),
            "status": stored.get("status", ""),
            "priority": stored.get("priority", ""),
            "customer_id": _display(stored.get("customer_id", NO_VALUE)),
            "matches": matches,
        }

"""A search pass evaluated over whole posting lists in NumPy instead of posting by posting in Python.

Whoosh finds and scores matches one document at a time through layers of matcher method calls;
at 100,000 calls that loop was four fifths of a search's time (see docs/search.md, "Speed"). Here
each term's posting list comes as arrays (:mod:`app.posting_arrays`), and the query tree built by
``app.search.build_query`` is evaluated on them: a term's BM25F scores in one vector expression, a
word's alternatives merged by their best score, words intersected (every word required) or united
(any word enough) with their scores summed. Every matching call is scored, so the top hits are the
exhaustive ranking, ordered as Whoosh's ``TopCollector`` orders them (score, then document number).

The arithmetic is Whoosh's, operation for operation, on the same 64-bit floats: a term's scores are
equal to the last bit; sums of several words may differ from the matcher path in the last bit
where they add in another order. Only the query types ``build_query`` makes are understood; for any
other, :func:`search_arrays` returns None and the caller runs Whoosh's matchers.
"""

import time
from functools import lru_cache

import numpy as np
from whoosh import query as Q
from whoosh.searching import Results

from app.alternatives import BestOf
from app.conjunction import AllOf
from app.disjunction import AnyOf
from app.posting_arrays import live_mask
from app.scoring import TabulatedBM25FScorer, length_norms, segment_length_bytes

_NO_IDS = np.zeros(0, dtype=np.int32)
_NO_SCORES = np.zeros(0, dtype=np.float64)


class Unsupported(Exception):
    """The query holds a type this module does not evaluate."""


@lru_cache(maxsize=64)
def _norm_table(average_length, b, k1):
    """``app.scoring.length_norms`` as an array, to be indexed by a whole list's length bytes at once."""
    return np.array(length_norms(average_length, b, k1))


class _Leaf:
    """What evaluating a query on one segment needs: its searcher, reader and posting arrays."""

    def __init__(self, searcher, postings):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.postings = postings
        self._lengths = {}

    def _term_bytes(self, term):
        """The term as its field encodes it, or None when the field is unknown or cannot encode it."""
        if term.fieldname not in self.searcher.schema:
            return None
        try:
            return self.searcher.schema[term.fieldname].to_bytes(term.text)
        except ValueError:
            return None

    def term_scores(self, term):
        fieldname, term_bytes = term.fieldname, self._term_bytes(term)
        if term_bytes is None or (fieldname, term_bytes) not in self.reader:
            return _NO_IDS, _NO_SCORES
        scorer = self.searcher.weighting.scorer(self.searcher, fieldname, term_bytes)
        if type(scorer) is not TabulatedBM25FScorer:
            raise Unsupported(f"scoring {fieldname!r} with {type(scorer).__name__}")
        ids, weights = self.postings.get(self.reader, fieldname, term_bytes)
        tf = weights.astype(np.float64)
        norms = _norm_table(scorer.avgfl, scorer.B, scorer.K1)[self._length_bytes(fieldname)[ids]]
        scores = scorer.idf * ((tf * scorer._k1_plus_1) / (tf + norms))
        if term.boost != 1.0:
            scores = scores * term.boost
        return ids, scores

    def term_ids(self, term):
        term_bytes = self._term_bytes(term)
        if term_bytes is None:
            return _NO_IDS
        return self.postings.get(self.reader, term.fieldname, term_bytes)[0]

    def _length_bytes(self, fieldname):
        if fieldname not in self._lengths:
            stored = segment_length_bytes(self.reader, fieldname)
            if stored is None:
                raise Unsupported(f"field lengths of {fieldname!r}")
            self._lengths[fieldname] = np.frombuffer(stored, dtype=np.uint8)
        return self._lengths[fieldname]


def _evaluate(query, leaf):
    """``(ids, scores)`` of the documents of one segment the query matches, ids ascending."""
    if query is Q.NullQuery:
        return _NO_IDS, _NO_SCORES
    if type(query) is Q.Term:
        return leaf.term_scores(query)
    if type(query) in (Q.And, AllOf, BestOf) and not query.subqueries:
        return _NO_IDS, _NO_SCORES
    if type(query) in (Q.And, AllOf):
        subs = query.subqueries
        if len(subs) == 1:
            return _evaluate(subs[0], leaf)
        ordered = sorted(subs, key=lambda sub: sub.estimate_size(leaf.reader))
        ids, scores = _evaluate(ordered[0], leaf)
        for sub in ordered[1:]:
            if not len(ids):
                break
            ids, scores = _intersect(ids, scores, *_evaluate(sub, leaf))
        # Whoosh wraps an And's matcher in its boost; AllOf's matcher is returned bare.
        return ids, _boosted(scores, query.boost if type(query) is Q.And else 1.0)
    if type(query) is BestOf:
        subs = query.subqueries
        if len(subs) == 1:
            return _evaluate(subs[0], leaf)
        ids, scores = _best_of([_evaluate(sub, leaf) for sub in subs])
        return ids, _boosted(scores, query.boost)
    if type(query) is AnyOf:
        subs = query.subqueries
        finding = [_evaluate(sub, leaf) for sub in subs[: query.finding_count]]
        scoring = [_evaluate(sub, leaf) for sub in subs[query.finding_count :]]
        ids, scores = _sum_over_union(finding, scoring)
        return ids, _boosted(scores, query.boost)
    raise Unsupported(type(query).__name__)


def _boosted(scores, boost):
    return scores if boost == 1.0 else scores * boost


def _positions(ids, within):
    """For each of ``ids``, whether ``within`` (ascending) holds it and where."""
    if not len(within):
        return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.intp)
    places = np.searchsorted(within, ids)
    np.minimum(places, len(within) - 1, out=places)
    return within[places] == ids, places


def _intersect(ids, scores, other_ids, other_scores):
    found, places = _positions(ids, other_ids)
    return ids[found], scores[found] + other_scores[places[found]]


def _best_of(alternatives):
    """The union of the alternatives, each document scored by the best alternative it holds."""
    ids = np.concatenate([a_ids for a_ids, _ in alternatives])
    scores = np.concatenate([a_scores for _, a_scores in alternatives])
    if not len(ids):
        return _NO_IDS, _NO_SCORES
    order = np.argsort(ids, kind="stable")
    ids, scores = ids[order], scores[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    return ids[starts], np.maximum.reduceat(scores, starts)


def _sum_over_union(finding, scoring):
    """The documents any ``finding`` word holds, scored by the sum of every word's score on them."""
    candidates = np.unique(np.concatenate([ids for ids, _ in finding])) if finding else _NO_IDS
    totals = np.zeros(len(candidates), dtype=np.float64)
    if not len(candidates):
        return candidates, totals
    for word_ids, word_scores in finding + scoring:
        found, places = _positions(candidates, word_ids)
        totals[found] += word_scores[places[found]]
    return candidates, totals


def _restricted_ids(restrict, leaf):
    """The documents of one segment a filter (a term, or an And of terms) allows."""
    if type(restrict) is Q.Term:
        return leaf.term_ids(restrict)
    if type(restrict) is Q.And and all(type(sub) is Q.Term for sub in restrict.subqueries):
        allowed = None
        for sub in restrict.subqueries:
            ids = leaf.term_ids(sub)
            allowed = ids if allowed is None else allowed[_positions(allowed, ids)[0]]
        return allowed if allowed is not None else _NO_IDS
    raise Unsupported(f"filter {type(restrict).__name__}")


def _top(ids, scores, limit):
    """The best ``limit`` of one segment's matches: highest score first, then lowest number."""
    if len(ids) > limit:
        kth_best = -np.partition(-scores, limit - 1)[limit - 1]
        keep = scores >= kth_best
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))[:limit]
    return ids[order], scores[order]


class _Counts:
    """Facet counts in the shape ``Results.groups`` reads (Whoosh's facet maps have ``as_dict``)."""

    def __init__(self, counts):
        self.counts = counts

    def as_dict(self):
        return self.counts


def _count_values(counts, leaf, fieldname, ids):
    """Add how many of ``ids`` hold each value of a one-value field to ``counts``."""
    codes, values = leaf.postings.value_codes(leaf.reader, fieldname)
    per_code = np.bincount(codes[ids], minlength=len(values) + 1)
    for code in np.flatnonzero(per_code[: len(values)]).tolist():
        counts[values[code]] = counts.get(values[code], 0) + int(per_code[code])


def search_arrays(searcher, query, restrict, limit, deadline, postings, facet_fields=()):
    """Run one search pass over posting arrays.

    :param searcher: the Whoosh searcher (one segment or several).
    :param query: the query of the pass (what ``build_query`` makes).
    :param restrict: a filter query (a term or an And of terms), or None.
    :param limit: how many top hits to keep.
    :param deadline: a ``time.monotonic()`` value; segments not reached by then are left out.
    :param postings: the process's :class:`app.posting_arrays.PostingArrays`.
    :param facet_fields: one-value fields (``ID``) whose values to count among all matches, as
        ``Results.groups(name)`` gives them.
    :returns: ``(results, timed_out)``, ``results`` a Whoosh ``Results`` whose length is the exact number
        of matches found; or None when the query or filter holds a type not evaluated here.
    """
    best, total, timed_out = [], 0, False
    facet_counts = {name: {} for name in facet_fields}
    leaves = searcher.leaf_searchers()
    try:
        for place, (leaf_searcher, offset) in enumerate(leaves):
            if place and time.monotonic() > deadline:
                timed_out = True
                break
            leaf = _Leaf(leaf_searcher, postings)
            ids, scores = _evaluate(query, leaf)
            live = live_mask(leaf.reader)
            if live is not None and len(ids):
                kept = live[ids]
                ids, scores = ids[kept], scores[kept]
            if restrict is not None and len(ids):
                kept = _positions(ids, _restricted_ids(restrict, leaf))[0]
                ids, scores = ids[kept], scores[kept]
            total += len(ids)
            for name, counts in facet_counts.items():
                _count_values(counts, leaf, name, ids)
            ids, scores = _top(ids, scores, limit)
            best.extend(zip(scores.tolist(), (ids.astype(np.int64) + offset).tolist()))
    except Unsupported:
        return None
    best.sort(key=lambda hit: (-hit[0], hit[1]))
    facet_maps = {name: _Counts(counts) for name, counts in facet_counts.items()}
    results = Results(searcher, query, best[:limit], facetmaps=facet_maps)
    results._total = total
    return results, timed_out


def terms_on_documents(searcher, docnums, fieldname, terms, postings):
    """Which of ``terms`` each of a few documents holds, looked up in the posting arrays.

    :param searcher: the searcher the document numbers belong to.
    :param docnums: document numbers (the page of hits).
    :param fieldname: the field of the terms.
    :param terms: term texts.
    :param postings: the process's :class:`app.posting_arrays.PostingArrays`.
    :returns: a dict from document number to the set of its terms among ``terms``.
    """
    found = {docnum: set() for docnum in docnums}
    wanted = np.array(sorted(found), dtype=np.int64)
    field = searcher.schema[fieldname]
    for leaf_searcher, offset in searcher.leaf_searchers() if len(wanted) else ():
        reader = leaf_searcher.reader()
        local = wanted[(wanted >= offset) & (wanted < offset + reader.doc_count_all())] - offset
        if not len(local):
            continue
        for term in terms:
            holding = local[_positions(local, postings.get(reader, fieldname, field.to_bytes(term))[0])[0]]
            for docnum in holding.tolist():
                found[docnum + offset].add(term)
    return found

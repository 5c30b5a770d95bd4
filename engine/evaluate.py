"""One search pass: a query tree evaluated over whole posting arrays, within the search's time limit.

Each term's posting list comes as arrays (:mod:`engine.postings`); a term's BM25F scores are one
vector expression (:mod:`engine.scoring`), a word's alternatives are merged by their best score,
words are intersected (every word required) or united (any word enough) with their scores summed.
Every matching call is scored, so the top hits are the exhaustive ranking, ordered by score, then
by document number.

The time limit is kept inside a segment too: each segment's documents are cut into ranges holding
about ``UNIT_POSTINGS`` postings of the query's terms, and the clock is read between ranges. Ranges
are taken in turn from every segment (the first range of each, then the second of each, ...), so a
pass cut short has looked at part of every segment, the newest calls' included, never at the oldest
segment alone. The first range is always evaluated, however late.
"""

from dataclasses import dataclass, field
from time import monotonic

import numpy as np

from engine.postings import length_bytes, live_mask
from engine.query import AllOf, AllTerms, AnyOf, BestOf, Term
from engine.scoring import bm25

# Postings (of all the query's terms together) evaluated between two looks at the clock: about 5 ms.
UNIT_POSTINGS = 100_000
# Merging in an array as long as the document range beats sorting once the lists hold a sixteenth of its length.
DENSE_SHARE = 16
_NO_IDS = np.zeros(0, dtype=np.int32)
_NO_SCORES = np.zeros(0, dtype=np.float64)


@dataclass
class PassResult:
    """What one pass found: the best hits as ``(score, docnum)``, how many calls matched, and facet counts."""

    hits: list
    total: int
    timed_out: bool = False
    facets: dict = field(default_factory=dict)


class _Segment:
    """One segment of the index as one pass sees it: its postings of the query's terms, lengths, filter."""

    def __init__(self, reader, offset, stats, postings):
        self.reader = reader
        self.offset = offset
        self.stats = stats
        self.postings = postings
        self.doc_count = reader.doc_count_all()
        self._lists = {}

    def postings_of(self, term):
        found = self._lists.get(term)
        if found is None:
            schema = self.reader.schema
            if term.field not in schema:
                found = None
            else:
                try:
                    term_bytes = schema[term.field].to_bytes(term.text)
                except ValueError:
                    term_bytes = None
                found = None if term_bytes is None else self.postings.get(self.reader, term.field, term_bytes)
            found = found if found is not None and len(found.ids) else False
            self._lists[term] = found
        return found or None

    def size(self, node):
        """How many postings a node may match here (to intersect the smallest first)."""
        if type(node) is Term:
            found = self.postings_of(node)
            return 0 if found is None else len(found.ids)
        if type(node) is AllTerms:
            return min((self.size(part) for part in node.parts), default=0)
        if type(node) is BestOf:
            return sum(self.size(option) for option in node.options)
        return sum(self.size(term) for term in node.terms())

    def ranges(self, terms):
        """Document ranges holding about ``UNIT_POSTINGS`` postings of ``terms`` each."""
        held = sum(self.size(term) for term in set(terms))
        count = max(1, -(-held // UNIT_POSTINGS))
        bounds = np.linspace(0, self.doc_count, count + 1).astype(np.int64).tolist()
        return [(bounds[i], bounds[i + 1]) for i in range(count) if bounds[i] < bounds[i + 1]]

    def allowed(self, filters):
        """The documents of this segment every filter term holds (ascending), or None without filters."""
        allowed = None
        for term in filters:
            found = self.postings_of(term)
            ids = _NO_IDS if found is None else found.ids
            allowed = ids if allowed is None else allowed[_positions(allowed, ids)[0]]
        return allowed


def _term_scores(term, segment, low, high):
    found = segment.postings_of(term)
    if found is None:
        return _NO_IDS, _NO_SCORES
    start, end = np.searchsorted(found.ids, (low, high))
    ids = found.ids[start:end]
    if not len(ids):
        return _NO_IDS, _NO_SCORES
    stats = segment.stats
    norms = stats.norms(term.field)[length_bytes(segment.reader, term.field)[ids]]
    return ids, bm25(stats.idf(term.field, term.text), found.weights[start:end], norms, term.boost)


def _evaluate(node, segment, low, high):
    """``(ids, scores)`` of the documents in ``[low, high)`` of one segment that ``node`` matches, ids ascending."""
    kind = type(node)
    if kind is Term:
        return _term_scores(node, segment, low, high)
    if kind is AllTerms or kind is AllOf:
        parts = node.parts if kind is AllTerms else node.words
        ids, scores = _intersect_all(sorted(parts, key=segment.size), segment, low, high)
        return ids, (scores * node.boost if kind is AllTerms and node.boost != 1.0 else scores)
    if kind is BestOf:
        if not node.options:
            return _NO_IDS, _NO_SCORES
        if len(node.options) == 1:
            return _evaluate(node.options[0], segment, low, high)
        return _best_of([_evaluate(option, segment, low, high) for option in node.options], low, high)
    if kind is AnyOf:
        finding = [_evaluate(word, segment, low, high) for word in node.finding]
        scoring = [_evaluate(word, segment, low, high) for word in node.scoring]
        return _sum_over_union(finding, scoring, low, high)
    raise TypeError(f"not a query node: {node!r}")


def _intersect_all(parts, segment, low, high):
    if not parts:
        return _NO_IDS, _NO_SCORES
    ids, scores = _evaluate(parts[0], segment, low, high)
    for part in parts[1:]:
        if not len(ids):
            break
        other_ids, other_scores = _evaluate(part, segment, low, high)
        found, places = _positions(ids, other_ids)
        ids, scores = ids[found], scores[found] + other_scores[places[found]]
    return ids, scores


def _positions(ids, within):
    """For each of ``ids``, whether ``within`` (ascending) holds it and where."""
    if not len(within):
        return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.intp)
    places = np.searchsorted(within, ids)
    np.minimum(places, len(within) - 1, out=places)
    return within[places] == ids, places


def _dense(lists, low, high):
    """Whether lists holding this many postings are best merged in an array over the whole range ``[low, high)``:
    sorting and searching cost more per posting than touching every document of the range once."""
    return sum(len(ids) for ids, _ in lists) * DENSE_SHARE >= high - low


def _best_of(alternatives, low, high):
    """The union of the alternatives, each document scored by the best alternative it holds."""
    if _dense(alternatives, low, high):
        best = np.full(high - low, -np.inf)
        for ids, scores in alternatives:
            places = ids - low
            best[places] = np.maximum(best[places], scores)
        places = np.flatnonzero(best > -np.inf)
        return (places + low).astype(np.int32), best[places]
    ids = np.concatenate([a_ids for a_ids, _ in alternatives])
    if not len(ids):
        return _NO_IDS, _NO_SCORES
    scores = np.concatenate([a_scores for _, a_scores in alternatives])
    order = np.argsort(ids, kind="stable")
    ids, scores = ids[order], scores[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    return ids[starts], np.maximum.reduceat(scores, starts)


def _sum_over_union(finding, scoring, low, high):
    """The documents any ``finding`` word holds, scored by the sum of every word's score on them.

    Scores are added word by word in the same order either way, so both ways give the same sums to the bit.
    """
    if not finding:
        return _NO_IDS, _NO_SCORES
    if _dense(finding, low, high):
        totals, found = np.zeros(high - low), np.zeros(high - low, dtype=bool)
        for word_ids, word_scores in finding:
            totals[word_ids - low] += word_scores
            found[word_ids - low] = True
        for word_ids, word_scores in scoring:
            totals[word_ids - low] += word_scores
        places = np.flatnonzero(found)
        return (places + low).astype(np.int32), totals[places]
    candidates = np.unique(np.concatenate([ids for ids, _ in finding]))
    totals = np.zeros(len(candidates), dtype=np.float64)
    for word_ids, word_scores in finding + scoring:
        found, places = _positions(candidates, word_ids)
        totals[found] += word_scores[places[found]]
    return candidates, totals


def _top(ids, scores, limit):
    """The best ``limit`` matches: highest score first, then lowest number."""
    if len(ids) > limit:
        kth_best = -np.partition(-scores, limit - 1)[limit - 1]
        keep = scores >= kth_best
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))[:limit]
    return ids[order], scores[order]


def _count_values(counts, segment, field_name, ids):
    """Add how many of ``ids`` hold each value of a one-value field to ``counts``."""
    codes, values = segment.postings.value_codes(segment.reader, field_name)
    per_code = np.bincount(codes[ids], minlength=len(values) + 1)
    for code in np.flatnonzero(per_code[: len(values)]).tolist():
        counts[values[code]] = counts.get(values[code], 0) + int(per_code[code])


def _units(segments, terms):
    """Every segment's document ranges, taken in turn from each segment."""
    per_segment = [[(segment, low, high) for low, high in segment.ranges(terms)] for segment in segments]
    units = []
    for place in range(max((len(ranges) for ranges in per_segment), default=0)):
        units.extend(ranges[place] for ranges in per_segment if place < len(ranges))
    return units


def evaluate(searcher, stats, postings, tree, filters, limit, deadline, facet_fields=()):
    """Run one search pass.

    :param searcher: the Whoosh searcher (one segment or several).
    :param stats: the searcher's :class:`engine.scoring.IndexStatistics`.
    :param postings: the process's :class:`engine.postings.PostingArrays`.
    :param tree: the query tree (:mod:`engine.query`).
    :param filters: :class:`engine.query.Term` filters every match must hold; they add nothing to scores.
    :param limit: how many top hits to keep.
    :param deadline: a ``time.monotonic()`` value past which no further document range is started.
    :param facet_fields: one-value fields (``ID``) whose values to count among all matches.
    :returns: a :class:`PassResult`.
    """
    segments = [_Segment(leaf.reader(), offset, stats, postings) for leaf, offset in searcher.leaf_searchers()]
    best, total, timed_out = [], 0, False
    facets = {name: {} for name in facet_fields}
    allowed = {id(segment): segment.allowed(filters) for segment in segments}
    for place, (segment, low, high) in enumerate(_units(segments, tree.terms())):
        if place and monotonic() > deadline:
            timed_out = True
            break
        ids, scores = _evaluate(tree, segment, low, high)
        live = live_mask(segment.reader)
        if live is not None and len(ids):
            kept = live[ids]
            ids, scores = ids[kept], scores[kept]
        if allowed[id(segment)] is not None and len(ids):
            kept = _positions(ids, allowed[id(segment)])[0]
            ids, scores = ids[kept], scores[kept]
        total += len(ids)
        for name, counts in facets.items():
            _count_values(counts, segment, name, ids)
        ids, scores = _top(ids, scores, limit)
        best.extend(zip(scores.tolist(), (ids.astype(np.int64) + segment.offset).tolist()))
    best.sort(key=lambda hit: (-hit[0], hit[1]))
    return PassResult(hits=best[:limit], total=total, timed_out=timed_out, facets=facets)


def terms_on_documents(searcher, postings, docnums, field_name, texts):
    """Which of ``texts`` (terms of one field) each of a few documents holds, looked up in the posting arrays.

    :param searcher: the searcher the document numbers belong to.
    :param postings: the process's :class:`engine.postings.PostingArrays`.
    :param docnums: document numbers (the page of hits).
    :param field_name: the field of the terms.
    :param texts: term texts.
    :returns: a dict from document number to the set of its terms among ``texts``.
    """
    found = {docnum: set() for docnum in docnums}
    wanted = np.array(sorted(found), dtype=np.int64)
    schema_field = searcher.schema[field_name]
    for leaf, offset in searcher.leaf_searchers() if len(wanted) else ():
        reader = leaf.reader()
        local = wanted[(wanted >= offset) & (wanted < offset + reader.doc_count_all())] - offset
        if not len(local):
            continue
        for text in texts:
            ids = postings.get(reader, field_name, schema_field.to_bytes(text)).ids
            for docnum in local[_positions(local, ids)[0]].tolist():
                found[docnum + offset].add(text)
    return found

"""One search pass over posting arrays: every segment, within the search's time limit.

Documents are scored in whole arrays (:mod:`engine.combine`). Two ways to go through them:

- **Any word enough, strongest words first (MaxScore).** For a page of hits and a count up to ``count_up_to``, the
  finding words are read in order of the best score each can give a call (:mod:`engine.bounds`, from the block
  maxima Whoosh keeps); each brings in the calls no earlier word brought, which are scored in full by looking every
  word up on them. Once the words not yet read could not together lift a call above the lowest score on the page,
  reading stops: their long lists are only looked up, never walked. The page is the same as when every call is
  scored (score, then document number); the count goes on only until it reaches ``count_up_to``.
- **Everything** (every word required, one word, facet counts or an exact count, or words so common that looking
  them up on the calls brought in would cost more than scoring every posting): ranges of about ``UNIT_POSTINGS``
  postings, taken in turn from every segment.

The clock is read between words, or between ranges, so the time limit holds inside a segment; a pass cut short
keeps the best hits of what it scored, which spans every segment. The first word or range is always scored.
"""

from dataclasses import dataclass, field
from time import monotonic

import numpy as np

from engine.bounds import word_bound
from engine.combine import NO_IDS, documents_of, positions, score_at, score_range, top
from engine.postings import live_mask
from engine.query import AnyOf

# Postings (of all the query's terms together) scored between two looks at the clock: a few milliseconds.
UNIT_POSTINGS = 100_000
# Looking words up on the calls brought in pays while those are fewer than this share of the index (one in 16);
# past it, scoring every posting is cheaper.
LOOKUP_SHARE = 16
# A bound this close to the page's lowest score is scored anyway: sums of the same scores may differ in the last bit.
BOUND_SLACK = 1e-9


@dataclass
class PassResult:
    """What one pass found: the best hits as ``(score, docnum)``, how many calls matched, facet counts, and
    how many postings of the query's terms it scored out of how many there are."""

    hits: list
    total: int
    timed_out: bool = False
    facets: dict = field(default_factory=dict)
    postings_scored: int = 0
    postings_total: int = 0


class SegmentView:
    """One segment of the index as one pass sees it: its postings of the query's terms, deletions and filter."""

    def __init__(self, reader, offset, stats, postings, filters):
        """
        :param reader: a Whoosh ``SegmentReader``.
        :param offset: the segment's first document number in the whole index.
        :param stats: the searcher's :class:`engine.scoring.IndexStatistics`.
        :param postings: the process's :class:`engine.postings.PostingArrays`.
        :param filters: :class:`engine.query.Term` filters every match must hold.
        """
        self.reader = reader
        self.offset = offset
        self.stats = stats
        self.postings = postings
        self.doc_count = reader.doc_count_all()
        # Postings of the query's terms scored or looked up here so far (:mod:`engine.combine` counts them).
        self.touched = 0
        self._lists = {}
        self._live = live_mask(reader)
        self._allowed = self._allowed_by(filters)

    def postings_of(self, term):
        """A term's :class:`index.whoosh_compat.PostingList` in this segment, or None when it has no posting here."""
        found = self._lists.get(term)
        if found is None:
            found = self._lookup(term)
            self._lists[term] = found if found is not None and len(found.ids) else False
        return self._lists[term] or None

    def _lookup(self, term):
        schema = self.reader.schema
        if term.field not in schema:
            return None
        try:
            term_bytes = schema[term.field].to_bytes(term.text)
        except ValueError:
            return None
        return self.postings.get(self.reader, term.field, term_bytes)

    def size(self, node):
        """How many postings a node's terms hold here (to intersect the smallest first)."""
        return sum(len(found.ids) for found in map(self.postings_of, set(node.terms())) if found is not None)

    def _allowed_by(self, filters):
        allowed = None
        for term in filters:
            found = self.postings_of(term)
            ids = NO_IDS if found is None else found.ids
            allowed = ids if allowed is None else allowed[positions(allowed, ids)[0]]
        return allowed

    def matches(self, tree, low, high):
        """The live, allowed documents of ``[low, high)`` that ``tree`` matches, and their scores."""
        ids, scores = score_range(tree, self, low, high)
        if self._live is not None and len(ids):
            kept = self._live[ids]
            ids, scores = ids[kept], scores[kept]
        if self._allowed is not None and len(ids):
            kept = positions(ids, self._allowed)[0]
            ids, scores = ids[kept], scores[kept]
        return ids, scores

    def new_candidates(self, word, seen):
        """The documents holding ``word`` that no earlier word brought in: all of them, and the live, allowed ones.

        Marks them in ``seen`` (a boolean array over the segment's documents).

        :returns: ``(ids, candidates)``, both ascending.
        """
        ids = documents_of(word, self)
        ids = ids[~seen[ids]]
        seen[ids] = True
        candidates = ids
        if self._live is not None and len(candidates):
            candidates = candidates[self._live[candidates]]
        if self._allowed is not None and len(candidates):
            candidates = candidates[positions(candidates, self._allowed)[0]]
        return ids, candidates

    def exhaustive_ranges(self, terms):
        """Document ranges holding about ``UNIT_POSTINGS`` postings of ``terms`` each."""
        held = sum(len(found.ids) for found in map(self.postings_of, set(terms)) if found is not None)
        count = max(1, -(-held // UNIT_POSTINGS))
        bounds = np.linspace(0, self.doc_count, count + 1).astype(np.int64).tolist()
        return [(bounds[i], bounds[i + 1], 0) for i in range(count) if bounds[i] < bounds[i + 1]], held


class _Best:
    """The best hits so far (score, then document number), at most ``limit``, and the lowest score among them."""

    def __init__(self, limit):
        self.limit = limit
        self.ids = np.zeros(0, dtype=np.int64)
        self.scores = np.zeros(0, dtype=np.float64)

    def add(self, ids, scores, offset):
        ids, scores = top(ids, scores, self.limit)
        self.ids, self.scores = top(
            np.concatenate((self.ids, ids.astype(np.int64) + offset)), np.concatenate((self.scores, scores)), self.limit
        )

    def threshold(self):
        """The score a call must reach to enter the page, or ``-inf`` while the page is not full."""
        return self.scores[-1] if len(self.scores) == self.limit else -np.inf

    def hits(self):
        return list(zip(self.scores.tolist(), self.ids.tolist()))


def evaluate(searcher, stats, postings, tree, filters, limit, deadline, facet_fields=(), count_up_to=None):
    """Run one search pass.

    :param searcher: the Whoosh searcher (one segment or several).
    :param stats: the searcher's :class:`engine.scoring.IndexStatistics`.
    :param postings: the process's :class:`engine.postings.PostingArrays`.
    :param tree: the query tree (:mod:`engine.query`).
    :param filters: :class:`engine.query.Term` filters every match must hold; they add nothing to scores.
    :param limit: how many top hits to keep.
    :param deadline: a ``time.monotonic()`` value past which no further batch of ranges is started.
    :param facet_fields: one-value fields (``ID``) whose values to count among all matches.
    :param count_up_to: count matches only up to this many, skipping ranges that cannot reach the page;
        None to count every match exactly (and score everything).
    :returns: a :class:`PassResult`.
    """
    segments = [
        SegmentView(leaf.reader(), offset, stats, postings, filters) for leaf, offset in searcher.leaf_searchers()
    ]
    if facet_fields or count_up_to is None or type(tree) is not AnyOf or len(tree.finding) < 2:
        return _everything(segments, tree, limit, deadline, facet_fields)
    return _max_score(segments, tree, limit, deadline, count_up_to)


def _everything(segments, tree, limit, deadline, facet_fields, walked=0):
    """Every posting of the query's terms in turn, range by range (``walked``: postings an earlier pass went
    through without scoring, counted among those this pass touched)."""
    per_segment, held = [], 0
    for segment in segments:
        ranges, postings_held = segment.exhaustive_ranges(tree.terms())
        per_segment.append([(segment, low, high) for low, high, _ in ranges])
        held += postings_held
    best, total, timed_out = _Best(limit), 0, False
    facets = {name: {} for name in facet_fields}
    units = [
        ranges[place]
        for place in range(max(map(len, per_segment), default=0))
        for ranges in per_segment
        if place < len(ranges)
    ]
    for place, (segment, low, high) in enumerate(units):
        if place and monotonic() > deadline:
            timed_out = True
            break
        ids, scores = segment.matches(tree, low, high)
        total += len(ids)
        for name, counts in facets.items():
            _count_values(counts, segment, name, ids)
        best.add(ids, scores, segment.offset)
    scored = sum(segment.touched for segment in segments) + walked
    return PassResult(best.hits(), total, timed_out, facets, scored, held)


def _max_score(segments, tree, limit, deadline, count_up_to):
    """Any word enough, finding words read strongest first, until the words left could not lift a call into the page."""
    bounds = {word: word_bound(word, segments) for word in set(tree.finding + tree.scoring)}
    order = sorted(tree.finding, key=lambda word: -bounds[word])
    unread = sum(bounds[word] for word in order) + sum(bounds[word] for word in tree.scoring)
    seen = [np.zeros(segment.doc_count, dtype=bool) for segment in segments]
    best, total, walked, timed_out = _Best(limit), 0, 0, False
    lookup_budget, brought = sum(segment.doc_count for segment in segments) / LOOKUP_SHARE, 0
    left = list(order)
    while left:
        if unread * (1 + BOUND_SLACK) < best.threshold():
            break
        if len(left) < len(order) and monotonic() > deadline:
            timed_out = True
            break
        brought += sum(segment.size(left[0]) for segment in segments)
        if brought > lookup_budget:
            return _everything(segments, tree, limit, deadline, (), walked)
        word = left.pop(0)
        unread -= bounds[word]
        for number, segment in enumerate(segments):
            ids, candidates = segment.new_candidates(word, seen[number])
            walked += len(ids)
            if not len(candidates):
                continue
            total += len(candidates)
            best.add(candidates, _scores_of(tree, segment, candidates), segment.offset)
    if not timed_out and total < count_up_to:
        for word in left:
            for number, segment in enumerate(segments):
                total += len(segment.new_candidates(word, seen[number])[1])
            if total >= count_up_to:
                break
    held = sum(segment.size(term) for segment in segments for term in set(tree.terms()))
    scored = sum(segment.touched for segment in segments) + walked
    return PassResult(best.hits(), total, timed_out, {}, scored, held)


def _scores_of(tree, segment, candidates):
    """Every word's scores summed on some calls, in the tree's order (as :func:`engine.combine.score_range` adds
    them)."""
    totals = np.zeros(len(candidates))
    for word in tree.finding + tree.scoring:
        found, scores = score_at(word, segment, candidates)
        totals[found] += scores[found]
    return totals


def _count_values(counts, segment, field_name, ids):
    """Add how many of ``ids`` hold each value of a one-value field to ``counts``."""
    codes, values = segment.postings.value_codes(segment.reader, field_name)
    per_code = np.bincount(codes[ids], minlength=len(values) + 1)
    for code in np.flatnonzero(per_code[: len(values)]).tolist():
        counts[values[code]] = counts.get(values[code], 0) + int(per_code[code])


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
            for docnum in local[positions(local, ids)[0]].tolist():
                found[docnum + offset].add(text)
    return found

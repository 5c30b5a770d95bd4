"""The reference a search pass is checked against: Whoosh's own searcher and scorer, without our reading code.

Two independent ways to rank a query tree (:mod:`engine.query`) over an index:

- :func:`whoosh_search` translates it into Whoosh's stock query classes (``Term``, ``And``, ``Or``,
  ``AndMaybe``) and runs ``Searcher.search`` with Whoosh's ``BM25F`` and collector, scoring every
  match. Whoosh's ``DisjunctionMax`` scores a document with another document's score when its
  alternatives are on different documents (its matcher compares the current scores of both
  sides without checking they are on the same document), so trees with a :class:`BestOf`
  cannot be translated faithfully and are refused.
- :func:`reference_scores` walks each term's postings through Whoosh's own matchers, scores each
  posting with Whoosh's own ``BM25F`` scorer, and combines the scores per document in plain
  Python dictionaries by the tree's documented rules. It covers every tree, ``BestOf`` included.

Both run inside ``whoosh_compat.shipped()``: Whoosh reads its files as it ships. Both average field lengths
over the documents' length bytes, as the product does (``whoosh_compat.length_total``), where Whoosh adds
exact lengths for the documents written into a segment.
"""

from whoosh import query as Q
from whoosh.scoring import BM25F

from engine.query import AllOf, AllTerms, AnyOf, BestOf, Term
from index import whoosh_compat


class Untranslatable(ValueError):
    """The tree holds a node Whoosh's stock queries cannot express faithfully."""


def to_whoosh(node):
    """The stock Whoosh query for a tree without :class:`BestOf`.

    :param node: a query tree.
    :returns: a ``whoosh.query.Query``.
    :raises Untranslatable: for a tree holding a ``BestOf`` of several options.
    """
    kind = type(node)
    if kind is Term:
        return Q.Term(node.field, node.text, boost=node.boost)
    if kind is AllTerms:
        return Q.And([to_whoosh(part) for part in node.parts], boost=node.boost)
    if kind is AllOf:
        return Q.And([to_whoosh(word) for word in node.words])
    if kind is AnyOf:
        finding = Q.Or([to_whoosh(word) for word in node.finding])
        if not node.scoring:
            return finding
        return Q.AndMaybe(finding, Q.Or([to_whoosh(word) for word in node.scoring]))
    if kind is BestOf and len(node.options) == 1:
        return to_whoosh(node.options[0])
    raise Untranslatable(f"Whoosh 2.7.4 has no faithful query for {kind.__name__}")


def whoosh_search(index, tree, filters=(), limit=10):
    """Whoosh's own top hits for a tree: ``[(score, docnum)]``, best first.

    :param index: a Whoosh index.
    :param tree: a query tree without ``BestOf`` (see :func:`to_whoosh`).
    :param filters: :class:`engine.query.Term` filters (they narrow, adding nothing to scores).
    :param limit: how many hits.
    """
    whoosh_query = to_whoosh(tree)
    restrict = Q.And([Q.Term(term.field, term.text) for term in filters]) if filters else None
    with whoosh_compat.shipped(), index.searcher(weighting=BM25F()) as searcher:
        average_lengths_from_length_bytes(searcher)
        results = searcher.search(whoosh_query, limit=None, filter=restrict)
        hits = [(hit.score, hit.docnum) for hit in results]
    hits.sort(key=lambda hit: (-hit[0], hit[1]))
    return hits[:limit]


def reference_scores(index, tree, filters=()):
    """Every matching live document's score, from Whoosh's own postings and ``BM25F`` scorer.

    :param index: a Whoosh index.
    :param tree: any query tree.
    :param filters: :class:`engine.query.Term` filters.
    :returns: a dict from document number to score.
    """
    with whoosh_compat.shipped(), index.searcher(weighting=BM25F()) as searcher:
        average_lengths_from_length_bytes(searcher)
        scores = _combine(tree, searcher)
        allowed = None
        for term in filters:
            holding = set(_term(Term(term.field, term.text), searcher))
            allowed = holding if allowed is None else allowed & holding
        reader = searcher.reader()
        return {
            docnum: score
            for docnum, score in scores.items()
            if not reader.is_deleted(docnum) and (allowed is None or docnum in allowed)
        }


def average_lengths_from_length_bytes(searcher):
    """Have ``BM25F`` average field lengths over the length bytes, as the product does (its scorers ask the
    top searcher).

    :param searcher: a top-level Whoosh searcher, changed in place.
    """
    reader = searcher.reader()
    searcher.field_length = lambda fieldname: whoosh_compat.length_total(reader, fieldname)


def reference_top(index, tree, filters=(), limit=10):
    """The best ``limit`` of :func:`reference_scores` as ``[(score, docnum)]``, score first, then number."""
    scores = reference_scores(index, tree, filters)
    return sorted(((score, docnum) for docnum, score in scores.items()), key=lambda hit: (-hit[0], hit[1]))[:limit]


def _term(term, searcher):
    found = {}
    for leaf, offset in searcher.leaf_searchers():
        if (term.field, term.text) not in leaf.reader():
            continue
        matcher = leaf.postings(term.field, term.text)
        while matcher.is_active():
            found[matcher.id() + offset] = matcher.score() * term.boost
            matcher.next()
    return found


def _combine(node, searcher):
    kind = type(node)
    if kind is Term:
        return _term(node, searcher)
    if kind in (AllTerms, AllOf):
        parts = [_combine(part, searcher) for part in (node.parts if kind is AllTerms else node.words)]
        common = set.intersection(*(set(part) for part in parts)) if parts else set()
        boost = node.boost if kind is AllTerms else 1.0
        return {docnum: sum(part[docnum] for part in parts) * boost for docnum in common}
    if kind is BestOf:
        best = {}
        for option in node.options:
            for docnum, score in _combine(option, searcher).items():
                best[docnum] = max(score, best.get(docnum, score))
        return best
    if kind is AnyOf:
        finding = [_combine(word, searcher) for word in node.finding]
        every = finding + [_combine(word, searcher) for word in node.scoring]
        found = set().union(*finding) if finding else set()
        return {docnum: sum(word.get(docnum, 0.0) for word in every) for docnum in found}
    raise TypeError(f"not a query node: {node!r}")

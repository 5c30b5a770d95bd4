"""The inner loops of a search pass over posting arrays, compiled by Numba: one pass over a list instead of the
several whole-array steps NumPy needs for the same work (a term's BM25 took seven, each reading and writing
every posting).

Each kernel does exactly the arithmetic :mod:`engine.scoring` and :mod:`engine.combine` describe, operation for
operation on 64-bit floats and in the same order, so its results equal NumPy's to the bit (the engine's tests
compare them with Whoosh's own scorer). Compiled code is cached beside this file (``__pycache__``) on first use;
a server compiles or loads it once, before its workers fork.
"""

import numpy as np
from numba import njit

from engine.scoring import K1

# BM25's ``k1 + 1``, the same double NumPy multiplies by.
K1_PLUS_ONE = K1 + 1
# Steps one place at a time before galloping, when looking ids up in a list.
LINEAR_STEPS = 8


@njit(cache=True)
def term_scores(tfs, ids, length_bytes, norms, idf, boost):
    """BM25 scores of postings of one term: ``idf * (tf * (k1 + 1)) / (tf + norm)``, times ``boost`` unless 1.

    :param tfs: the postings' term frequencies (``uint8`` from a segment's posting arrays file, else ``float32``).
    :param ids: their document numbers in the segment.
    :param length_bytes: the segment's length byte of every document in the term's field.
    :param norms: the field's tabulated length part, by length byte (``engine.scoring.length_norms``).
    :returns: a ``float64`` array as long as ``tfs``.
    """
    scores = np.empty(len(tfs))
    for place in range(len(tfs)):
        tf = np.float64(tfs[place])
        score = idf * ((tf * K1_PLUS_ONE) / (tf + norms[length_bytes[ids[place]]]))
        scores[place] = score if boost == 1.0 else score * boost
    return scores


@njit(cache=True)
def keep_best(best, ids, scores, low):
    """``best[id - low] = max(best[id - low], score)`` for each posting (ids distinct)."""
    for place in range(len(ids)):
        slot = ids[place] - low
        if scores[place] > best[slot]:
            best[slot] = scores[place]


@njit(cache=True)
def add_scores(totals, ids, scores, low):
    """``totals[id - low] += score`` for each posting (ids distinct)."""
    for place in range(len(ids)):
        totals[ids[place] - low] += scores[place]


@njit(cache=True)
def mark(found, ids, low):
    """``found[id - low] = True`` for each posting."""
    for place in range(len(ids)):
        found[ids[place] - low] = True


@njit(cache=True)
def locate(ids, within):
    """For each of ``ids``, whether ascending ``within`` holds it, and where: the first place whose value is not
    below it (as ``np.searchsorted``), at most the last place.

    Ids in ascending order are looked for from where the last one was found: a few steps one by one (lists of
    about the same length are merged), then galloping (a short list looked up in a long one costs about
    ``log(len(within) / len(ids))`` steps per id). An id below its predecessor starts again from the front.

    :returns: ``(found, places)``: a boolean array and an index array, both as long as ``ids``.
    """
    count, size = len(ids), len(within)
    found = np.zeros(count, dtype=np.bool_)
    places = np.empty(count, dtype=np.intp)
    place = 0
    for number in range(count):
        target = ids[number]
        if number and target < ids[number - 1]:
            place = 0
        stepped = 0
        while place < size and within[place] < target and stepped < LINEAR_STEPS:
            place += 1
            stepped += 1
        if place < size and within[place] < target:
            place = _gallop(within, place, target)
        places[number] = min(place, size - 1)
        found[number] = place < size and within[place] == target
    return found, places


@njit(cache=True)
def _gallop(within, place, target):
    """The first place from ``place`` on whose value is not below ``target`` (``within[place]`` is)."""
    size, below, step = len(within), place, 1
    above = place + 1
    while above < size and within[above] < target:
        below = above
        step *= 2
        above = place + step
    above = min(above, size)
    below += 1
    while below < above:
        middle = (below + above) // 2
        if within[middle] < target:
            below = middle + 1
        else:
            above = middle
    return below


@njit(cache=True)
def span(ids, low, high):
    """Where the ids in ``[low, high)`` start and end in ascending ``ids`` (as ``np.searchsorted`` of both, which
    given Python ints first copies a 32-bit array whole into 64 bits)."""
    return np.searchsorted(ids, low), np.searchsorted(ids, high)


@njit(cache=True)
def intersect(ids, scores, other_ids, other_scores):
    """The ids both ascending lists hold, each scored ``score + other score`` (the order NumPy adds them in).

    :returns: ``(ids, scores)``, ids ascending.
    """
    kept_ids = np.empty(min(len(ids), len(other_ids)), dtype=ids.dtype)
    kept_scores = np.empty(len(kept_ids))
    kept, place, size = 0, 0, len(other_ids)
    for number in range(len(ids)):
        target = ids[number]
        # locate's step-then-gallop loop, written out again: as a shared helper (even inlined) both ran about 35 %
        # slower on two lists of 400,000.
        stepped = 0
        while place < size and other_ids[place] < target and stepped < LINEAR_STEPS:
            place += 1
            stepped += 1
        if place < size and other_ids[place] < target:
            place = _gallop(other_ids, place, target)
        if place == size:
            break
        if other_ids[place] == target:
            kept_ids[kept] = target
            kept_scores[kept] = scores[number] + other_scores[place]
            kept += 1
    return kept_ids[:kept], kept_scores[:kept]


@njit(cache=True)
def term_scores_at(ids, term_ids, tfs, length_bytes, norms, idf, boost):
    """A term's BM25 scores on some documents (as :func:`term_scores`), and which of them hold it.

    :param ids: the documents, ascending.
    :param term_ids: the term's postings' document numbers, ascending; ``tfs`` their frequencies.
    :returns: ``(found, scores)``: a boolean array and a ``float64`` array as long as ``ids`` (0 where not found).
    """
    found, places = locate(ids, term_ids)
    scores = np.zeros(len(ids))
    for number in range(len(ids)):
        if found[number]:
            tf = np.float64(tfs[places[number]])
            score = idf * ((tf * K1_PLUS_ONE) / (tf + norms[length_bytes[ids[number]]]))
            scores[number] = score if boost == 1.0 else score * boost
    return found, scores


def warm_up():
    """Compile (or load from the cache) every kernel for the kinds of arrays a search hands it: lists read from
    a segment's mapped file are read-only, lists decoded or built in a search are not, and Numba compiles each
    combination apart. A server calls this before its workers fork, so no worker compiles during a search."""
    ids, ids64, scores, tfs = np.arange(1, 8, dtype=np.int32), np.arange(1, 8), np.ones(7), np.ones(7, np.uint8)
    lengths, norms = _read_only(np.zeros(9, dtype=np.uint8)), _read_only(np.ones(256))
    for list_ids in (ids, _read_only(ids)):
        for weights in (tfs, _read_only(tfs), tfs.astype(np.float32), _read_only(tfs.astype(np.float32))):
            term_scores(weights, list_ids, lengths, norms, 1.5, 1.0)
            term_scores_at(ids, list_ids, weights, lengths, norms, 1.5, 1.0)
            term_scores_at(ids64, list_ids, weights, lengths, norms, 1.5, 1.0)
        keep_best(np.zeros(9), list_ids, scores, 0)
        add_scores(np.zeros(9), list_ids, scores, 0)
        mark(np.zeros(9, dtype=np.bool_), list_ids, 0)
        span(list_ids, 2, 5)
        for looked_up in (ids, ids64, _read_only(ids)):
            locate(looked_up, list_ids)
        for other in (ids, _read_only(ids)):
            intersect(list_ids, scores, other, scores)


def _read_only(array):
    copy = array.copy()
    copy.setflags(write=False)
    return copy

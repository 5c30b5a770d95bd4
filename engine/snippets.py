"""Highlighted, HTML-escaped snippets of a call around the words that matched."""

from functools import lru_cache
from html import escape

from analyzers.pipeline import text_pipeline
from analyzers.tokenizer import CHUNK_PATTERN

SNIPPET_CHARS = 240
# Snippets and "why it matched" read this much of each text: enough for the window, bounded for speed.
MAX_ANALYZED_CHARS = 4_000


def matched_spans(text, terms):
    """Where in ``text`` the words whose index term is in ``terms`` stand.

    A hit's title, snippet and explanation ask about the same texts and terms, so the analysis
    of each (text, terms) pair is kept for a while.

    :param text: stored text of a call.
    :param terms: a set of index terms (stems) that matched.
    :returns: a tuple of (start, end, term) character spans, in order.
    """
    if not terms or not text:
        return ()
    return _spans(text[:MAX_ANALYZED_CHARS], frozenset(terms))


@lru_cache(maxsize=512)
def _spans(text, terms):
    spans = []
    chunk_terms = text_pipeline().chunk_terms
    # The index's own analysis, chunk by chunk (``Pipeline.words`` without its positions).
    for match in CHUNK_PATTERN.finditer(text):
        offset = match.start()
        for term, start, end in chunk_terms(match.group()):
            if term in terms and end > start:
                start, end = offset + start, offset + end
                if spans and start < spans[-1][1]:
                    continue
                spans.append((start, end, term))
    return tuple(spans)


def _window(text, spans, size):
    if not spans:
        return 0, min(len(text), size)
    best_start, best_count = spans[0][0], 0
    for first in spans:
        count = sum(1 for span in spans if first[0] <= span[0] and span[1] <= first[0] + size)
        if count > best_count:
            best_start, best_count = first[0], count
    start = max(0, best_start - size // 4)
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 30 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + size // 2 else end
    return start, end


def highlight(text, terms, size=SNIPPET_CHARS):
    """An escaped excerpt of ``text`` with ``<mark>`` around each matched word.

    :param text: stored text (never trusted: everything is escaped).
    :param terms: index terms that matched.
    :param size: the excerpt's length in characters.
    :returns: an HTML string; the only tags in it are ``<mark>`` and ``</mark>``.
    """
    spans = matched_spans(text, terms)
    start, end = _window(text, spans, size)
    pieces = ["…" if start > 0 else ""]
    cursor = start
    for span_start, span_end, _ in spans:
        if span_start < start or span_end > end:
            continue
        pieces.append(escape(text[cursor:span_start]))
        pieces.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    pieces.append(escape(text[cursor:end]))
    pieces.append("…" if end < len(text) else "")
    return "".join(pieces)


def surface_words(texts, terms):
    """For each matched term, the word as it stands in the call (first occurrence).

    :param texts: the stored texts of one call.
    :param terms: index terms that matched.
    :returns: a dict from term to the lowercase surface word.
    """
    found = {}
    for text in texts:
        for start, end, term in matched_spans(text, terms):
            found.setdefault(term, text[start:end].lower())
        if len(found) == len(terms):
            break
    return found

"""Index-time analysis in one loop: the token texts of the composed support chain, at a fraction of its cost.

Whoosh indexes a ``phrase=False`` TEXT field by asking its analyzer for token texts alone
(``mode="index"``, no positions, no character offsets). For that call :class:`FusedAnalyzer`
runs the tokenizer, lowercase, accent folding, UK→US spelling, the stop list and, for ``text``,
the Porter stem as one loop over cached chunks, instead of six generators. Every other call
(query parsing, snippets, highlighting, positions, ...) runs the composed chain unchanged.

``text`` and ``words`` are fed the same string, so the words of the last few strings are kept
and whichever field comes second reuses them.
"""

from functools import lru_cache

from whoosh.analysis import CompositeAnalyzer, LowercaseFilter, StemFilter, Token

from analyzers.filters import AccentFoldFilter, StopWordFilter, UkToUsSpellingFilter, fold_accents
from analyzers.spelling import us_spelling
from analyzers.tokenizer import CHUNK_PATTERN, SupportTokenizer, split_chunk

# The chain the loop reproduces, item for item; any other chain always runs composed.
WORDS_CHAIN = (SupportTokenizer, LowercaseFilter, AccentFoldFilter, UkToUsSpellingFilter, StopWordFilter)
# The keyword arguments Whoosh's Frequency and Existence formats pass when indexing a TEXT field.
TERMS_ONLY_ARGUMENTS = frozenset({"mode", "boosts"})
# Both fields of a document arrive one after the other; a few more entries serve concurrent writers.
MEMO_SIZE = 8
# Caches start over when full rather than grow with every code and hostname ever indexed;
# 50,000 chunks (about 16 MB) hold the 57,000-chunk vocabulary of the real records nearly as well as all of it.
CHUNK_CACHE_SIZE = 50_000
LONGEST_CACHED_CHUNK = 64
STEM_CACHE_SIZE = 50_000


class WordPipeline:
    """The words the composed chain up to the stop list gives for a text, computed in one loop.

    With Whoosh's English stop list and ``minsize=1``, ``"The colour printers won't print"``
    gives ``("color", "printers", "wont", "print")``.
    """

    def __init__(self, stops, minsize, maxsize):
        """Take the stop filter's configuration.

        :param stops: a frozenset of stop words.
        :param minsize: shortest word kept.
        :param maxsize: longest word kept, or ``None``.
        """
        self.stops, self.minsize, self.maxsize = stops, minsize, maxsize
        self._chunk_words = {}
        self._memo = {}

    def words(self, value):
        """The normalized words of ``value`` that pass the stop list, in token order.

        :param value: the text of one field.
        :returns: a tuple of strings.
        """
        words = self._memo.get(value)
        if words is None:
            words = tuple(self._words_of(value))
            # Clearing is one atomic step under the GIL, unlike evicting the oldest entry.
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[value] = words
        return words

    def _words_of(self, value):
        cache, words = self._chunk_words, []
        for chunk in CHUNK_PATTERN.findall(value):
            chunk_words = cache.get(chunk)
            if chunk_words is None:
                chunk_words = self._normalize(chunk)
                if len(chunk) <= LONGEST_CACHED_CHUNK:
                    if len(cache) >= CHUNK_CACHE_SIZE:
                        cache.clear()
                    cache[chunk] = chunk_words
            words.extend(chunk_words)
        return words

    def _normalize(self, chunk):
        return tuple(word for word, _, _ in self.chunk_words(chunk))

    def chunk_words(self, chunk):
        """What the composed filters make of one chunk's texts: the same functions, in the same order.

        :param chunk: text matched by ``CHUNK_PATTERN``, e.g. ``"Wi-Fi"``.
        :returns: a tuple of ``(word, start, end)``, offsets inside the chunk.
        """
        kept = []
        for text, start, end in split_chunk(chunk):
            word = us_spelling(fold_accents(text.lower()))
            if len(word) >= self.minsize and (self.maxsize is None or len(word) <= self.maxsize):
                if word not in self.stops:
                    kept.append((word, start, end))
        return tuple(kept)


@lru_cache(maxsize=None)
def word_pipeline(stops, minsize, maxsize):
    """The one pipeline of the process for a stop configuration, so that its caches are shared.

    :param stops: a frozenset of stop words.
    :param minsize: shortest word kept.
    :param maxsize: longest word kept, or ``None``.
    :returns: a :class:`WordPipeline`.
    """
    return WordPipeline(stops, minsize, maxsize)


@lru_cache(maxsize=None)
def cached_stem(stemfn):
    """A process-wide bounded cache around a stem function.

    :param stemfn: a function of one word, e.g. ``whoosh.lang.porter.stem``.
    :returns: the cached function.
    """
    return lru_cache(maxsize=STEM_CACHE_SIZE)(stemfn)


def terms_function(items):
    """The one-loop equivalent of a chain, when the chain is the support words chain (then a stem).

    :param items: the tokenizer and filters of a composed analyzer.
    :returns: a function from text to a tuple of token texts, or ``None`` when the chain is another one.
    """
    kinds = tuple(type(item) for item in items)
    if kinds[: len(WORDS_CHAIN)] != WORDS_CHAIN or len(kinds) > len(WORDS_CHAIN) + 1:
        return None
    stop_filter = items[len(WORDS_CHAIN) - 1]
    pipeline = word_pipeline(stop_filter.stops, stop_filter.min, stop_filter.max)
    if len(kinds) == len(WORDS_CHAIN):
        return pipeline.words
    stem_filter = items[-1]
    if kinds[-1] is not StemFilter or stem_filter.lang or stem_filter.ignore:
        return None
    stem = cached_stem(stem_filter.stemfn)

    def stemmed_words(value):
        return tuple(map(stem, pipeline.words(value)))

    return stemmed_words


def asks_for_terms_only(value, kwargs):
    """Tell whether an analyzer call is Whoosh indexing a text for its terms and nothing else.

    :param value: the value passed to the analyzer.
    :param kwargs: the keyword arguments passed with it.
    :returns: ``True`` for ``("...", {"mode": "index", "boosts": True})``; ``False`` when positions,
        character offsets, the query mode or any other option is asked for.
    """
    return isinstance(value, str) and kwargs.get("mode") == "index" and kwargs.keys() <= TERMS_ONLY_ARGUMENTS


def _token_stream(texts, **token_arguments):
    token = Token(**token_arguments)
    for text in texts:
        token.text = text
        yield token


class FusedAnalyzer(CompositeAnalyzer):
    """A composed analyzer that indexes the support chain in one loop and otherwise runs composed.

    ``FusedAnalyzer(words_analyzer(), StemFilter())`` gives, at index time, ``color``,
    ``printer``, ``wont``, ``print`` for ``"The colour printers won't print"``, exactly as
    the composed chain does. It pickles only its items (renaming or moving this class means a
    rebuild) and equals a plain ``CompositeAnalyzer`` of equal items.
    """

    def __init__(self, *composables):
        """Compose as Whoosh does, then find the one-loop path for these items.

        :param composables: a tokenizer, then filters or analyzers whose items are spliced in.
        """
        super().__init__(*composables)
        self._terms = terms_function(self.items)

    def __getstate__(self):
        return {"items": self.items}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._terms = terms_function(self.items)

    def __eq__(self, other):
        return isinstance(other, CompositeAnalyzer) and self.items == other.items

    def __ne__(self, other):
        return not self == other

    def index_terms(self, value):
        """The token texts Whoosh indexes for ``value``, in order, when this chain has the one-loop path.

        :param value: the text of one field.
        :returns: a tuple of strings, or ``None`` for a chain that only runs composed.
        """
        return None if self._terms is None else self._terms(value)

    def __call__(self, value, **kwargs):
        """Yield the tokens of ``value``: one loop for terms at index time, the composed chain otherwise.

        :param value: the text to analyze.
        :param kwargs: Whoosh's analyzer arguments (``positions``, ``chars``, ``mode``, ...).
        :returns: a generator of (reused) ``Token`` objects.
        """
        if self._terms is not None and asks_for_terms_only(value, kwargs):
            return _token_stream(self._terms(value), **kwargs)
        return super().__call__(value, **kwargs)

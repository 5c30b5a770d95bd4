"""The one text analysis of the product: indexing, queries and highlights all run this loop.

For each chunk of text (``analyzers.tokenizer.CHUNK_PATTERN``: a word, or a code, version, e-mail
or hostname with its parts, see :func:`analyzers.tokenizer.split_chunk`) every piece is lowercased,
its accents folded, and then, for the indexed fields, respelt in US English, dropped when it is a
stop word, and for the ``text`` field reduced to its Porter stem. Each kept piece is a :class:`Word`
with its characters in the text and its position (the parts of a compound share one).

``"The colour printers won't print"`` gives ``color``, ``printer``, ``wont``, ``print`` through
:func:`text_pipeline`, ``color``, ``printers``, ``wont``, ``print`` through :func:`words_pipeline`,
and ``the``, ``colour``, ``printers``, ``wont``, ``print`` through :func:`surface_pipeline`.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

from whoosh.analysis import STOP_WORDS
from whoosh.lang.porter import stem as porter_stem

from analyzers.accents import fold_accents
from analyzers.memo import BoundedMemo
from analyzers.spelling import us_spelling
from analyzers.tokenizer import CHUNK_PATTERN, split_chunk

# Caches start over when full rather than grow with every code and hostname ever indexed; 50,000 chunks
# (about 16 MB) hold the 57,000-chunk vocabulary of the real records nearly as well as all of it.
CHUNK_CACHE_SIZE = 50_000
LONGEST_CACHED_CHUNK = 64
STEM_CACHE_SIZE = 50_000
# ``text`` and ``words`` are fed the same string one after the other; a few more entries serve other writers.
MEMO_SIZE = 8

stem = lru_cache(maxsize=STEM_CACHE_SIZE)(porter_stem)


@dataclass(frozen=True)
class Word:
    """One analysed piece of text: its term, where it stands (characters), and its position."""

    text: str
    start: int
    end: int
    position: int


@dataclass(eq=False)
class Pipeline:
    """One configuration of the analysis loop (see the module docstring), with its caches."""

    name: str
    normalize: bool = True
    stemmed: bool = False
    stops: frozenset = STOP_WORDS
    _chunks: dict = field(default_factory=lambda: BoundedMemo(CHUNK_CACHE_SIZE), repr=False)
    _piece_texts: dict = field(init=False, repr=False)
    _memo: dict = field(default_factory=lambda: BoundedMemo(MEMO_SIZE), repr=False)

    def __post_init__(self):
        self._piece_texts = _PieceTexts(self)

    def chunk_terms(self, chunk):
        """The terms of one chunk with their characters inside it: ``((term, start, end), ...)``.

        :param chunk: text matched by ``CHUNK_PATTERN``, e.g. ``"Wi-Fi"``.
        """
        found = self._chunks.get(chunk)
        if found is None:
            found = tuple(self._analyse_chunk(chunk))
            if len(chunk) <= LONGEST_CACHED_CHUNK:
                self._chunks.keep(chunk, found)
        return found

    def _analyse_chunk(self, chunk):
        for piece, start, end in split_chunk(chunk):
            term = fold_accents(piece.lower())
            if self.normalize:
                term = us_spelling(term)
                if not term or term in self.stops:
                    continue
                if self.stemmed:
                    term = stem(term)
            yield term, start, end

    def words(self, text):
        """Every :class:`Word` of a text, in order.

        Positions count the chunks that kept at least one word, starting from the first such chunk's
        own number, so the parts of ``e-1102`` share a position and a stop word leaves no gap.

        :param text: any string.
        """
        position, last_chunk = None, None
        for number, match in enumerate(CHUNK_PATTERN.finditer(text)):
            offset = match.start()
            for term, start, end in self.chunk_terms(match.group(0)):
                if last_chunk != number:
                    position = number if position is None else position + 1
                    last_chunk = number
                yield Word(term, offset + start, offset + end, position)

    def terms(self, text):
        """The terms of a text in order (what the index holds for it), the last few texts remembered.

        :param text: any string.
        :returns: a tuple of strings.
        """
        found = self._memo.get(text)
        if found is None:
            if self.stemmed:
                # The stems of the normalized words: the ``words`` field, indexed from the same text, reuses them.
                found = tuple(map(stem, words_pipeline().terms(text)))
            else:
                found = tuple(chain.from_iterable(map(self._piece_texts.__getitem__, text.split())))
            self._memo.keep(text, found)
        return found

    def whole_terms(self, text):
        """The terms of a text without the parts emitted beside a whole (``e-1102`` stands for itself;
        its parts ``e`` and ``1102`` only serve documents).

        :param text: any string.
        :returns: a generator of strings, the first term of each position.
        """
        last_position = None
        for word in self.words(text):
            if word.position != last_position:
                last_position = word.position
                yield word.text


class _PieceTexts(BoundedMemo):
    """The terms of each run of non-space characters (``cache["printer,"]``), for :meth:`Pipeline.terms`.

    No chunk holds a space, and a space is no word character, so the chunks of a text are those of its pieces
    between spaces, in order: a text's terms are its pieces' terms joined, and a piece seen before (most are)
    costs a look-up instead of a run of ``CHUNK_PATTERN`` over its characters.
    """

    def __init__(self, pipeline):
        super().__init__(CHUNK_CACHE_SIZE)
        self.pipeline = pipeline

    def __missing__(self, piece):
        chunk_terms = self.pipeline.chunk_terms
        texts = tuple(term for chunk in CHUNK_PATTERN.findall(piece) for term, _, _ in chunk_terms(chunk))
        if len(piece) <= LONGEST_CACHED_CHUNK:
            self.keep(piece, texts)
        return texts


@lru_cache(maxsize=None)
def text_pipeline():
    """The ``text`` field's analysis: normalized words, stop words out, Porter stems."""
    return Pipeline("text", stemmed=True)


@lru_cache(maxsize=None)
def words_pipeline():
    """The ``words`` field's analysis: normalized whole words (the vocabulary of typo and sound-alike lookups)."""
    return Pipeline("words")


@lru_cache(maxsize=None)
def surface_pipeline():
    """Query words as typed: lowercase, accents folded; no spelling map, stop list or stems."""
    return Pipeline("surface", normalize=False)


def text_term_sequence(text):
    """The terms the ``text`` field holds for a text, in order (stop words left out), as a tuple.

    They are the stems of the ``words`` field's terms, as :meth:`Pipeline.terms` makes them for the ``text``
    pipeline, without that pipeline's memory of recent texts, which texts asked for one by one would only churn.
    """
    return tuple(map(stem, words_pipeline().terms(text)))


def text_terms(text):
    """The distinct terms the ``text`` field holds for a text, as a set (see :func:`text_term_sequence`)."""
    return frozenset(text_term_sequence(text))


PIPELINES = {"text": text_pipeline, "words": words_pipeline, "surface": surface_pipeline}

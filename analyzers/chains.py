"""The composed analyzers, one per indexed field.

All of them start the same way: :class:`SupportTokenizer`, lowercase, accent folding, UK→US
spelling, stop words out (Whoosh's English list; single letters such as the ``e`` of ``e-1102``
are kept). ``text`` then stems; ``words`` keeps whole words (its lexicon is the vocabulary for
typo correction and sound-alikes); the phonetic analyzers code the ``words`` tokens.
The ``text`` and ``words`` analyzers are :class:`FusedAnalyzer` chains, which index in one loop.
"""

from whoosh.analysis import LowercaseFilter, StemFilter
from whoosh.analysis.filters import STOP_WORDS

from analyzers.filters import (
    AccentFoldFilter,
    PhoneticCodeFilter,
    StopWordFilter,
    UkToUsSpellingFilter,
)
from analyzers.fused import FusedAnalyzer
from analyzers.tokenizer import SupportTokenizer


def words_analyzer():
    """Analyzer of the ``words`` field: normalized whole words, not stemmed.

    ``"The colour printers won't print"`` gives ``color``, ``printers``, ``wont``, ``print``.

    :returns: a Whoosh analyzer usable at index and query time.
    """
    return FusedAnalyzer(
        SupportTokenizer(),
        LowercaseFilter(),
        AccentFoldFilter(),
        UkToUsSpellingFilter(),
        StopWordFilter(stoplist=STOP_WORDS, minsize=1),
    )


def text_analyzer():
    """Analyzer of the catch-all ``text`` field: :func:`words_analyzer` then Porter stems.

    ``"The colour printers won't print"`` gives ``color``, ``printer``, ``wont``, ``print``.

    :returns: a Whoosh analyzer usable at index and query time.
    """
    return FusedAnalyzer(words_analyzer(), StemFilter())


def metaphone_analyzer():
    """Analyzer of a Metaphone field: :func:`words_analyzer` then Metaphone codes.

    ``"rowter wont conect"`` gives ``RTR``, ``WNT``, ``KNKT``.

    :returns: a Whoosh analyzer.
    """
    return words_analyzer() | PhoneticCodeFilter("metaphone")


def soundex_analyzer():
    """Analyzer of a Soundex field: :func:`words_analyzer` then Soundex codes.

    ``"rowter wont conect"`` gives ``R360``, ``W530``, ``C523``.

    :returns: a Whoosh analyzer.
    """
    return words_analyzer() | PhoneticCodeFilter("soundex")


def surface_analyzer():
    """Analyzer of query words as typed: tokens, lowercase, accents folded; nothing else.

    No spelling map, stop list or stems, so the query planner sees the words themselves.

    ``"The Colour printers"`` gives ``the``, ``colour``, ``printers``.

    :returns: a Whoosh analyzer.
    """
    return SupportTokenizer() | LowercaseFilter() | AccentFoldFilter()

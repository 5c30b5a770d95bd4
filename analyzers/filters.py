"""Thin Whoosh ``Filter`` wrappers around the word-level functions of this package.

Each filter pickles only its small configuration (Whoosh stores the schema in the index), and
compares equal by class and ``__dict__`` through ``whoosh.analysis.Filter.__eq__``.
"""

import unicodedata

from whoosh.analysis import Filter, StopFilter

from analyzers.phonetic import metaphone_code, soundex_code
from analyzers.spelling import us_spelling

PHONETIC_ALGORITHMS = {"metaphone": metaphone_code, "soundex": soundex_code}


def fold_accents(text):
    """Strip accents and compatibility forms from a word.

    :param text: a word, e.g. ``"café"`` or ``"ﬁle"``.
    :returns: the folded word (``"cafe"``, ``"file"``); ASCII input is returned as is.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class AccentFoldFilter(Filter):
    """Fold accents so that accented and plain spellings meet.

    ``"Café Résumé"`` (lowercased) becomes ``cafe``, ``resume``.
    """

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold_accents(token.text)
            yield token


class UkToUsSpellingFilter(Filter):
    """Rewrite UK, Canadian and Oxford spellings to US spelling, at index and query time.

    ``colour licence organised cancelled`` becomes ``color``, ``license``, ``organized``,
    ``canceled``. Expects lowercase tokens.
    """

    is_morph = True

    def __call__(self, tokens):
        for token in tokens:
            token.text = us_spelling(token.text)
            yield token


class PhoneticCodeFilter(Filter):
    """Replace each word by its phonetic code; tokens without letters are dropped.

    With ``algorithm="metaphone"``, ``router rowter 0x80070005`` becomes ``RTR``, ``RTR``.
    Codes are upper case, so they never equal a lowercase word of another field.
    """

    is_morph = True

    def __init__(self, algorithm="metaphone"):
        """Choose the code.

        :param algorithm: ``"metaphone"`` or ``"soundex"``.
        :raises ValueError: for any other name.
        """
        if algorithm not in PHONETIC_ALGORITHMS:
            raise ValueError(
                f"unknown phonetic algorithm {algorithm!r}; use one of {', '.join(sorted(PHONETIC_ALGORITHMS))}"
            )
        self.algorithm = algorithm

    def __call__(self, tokens):
        encode = PHONETIC_ALGORITHMS[self.algorithm]
        for token in tokens:
            code = encode(token.text)
            if code:
                token.text = code
                yield token


class StopWordFilter(StopFilter):
    """Whoosh's ``StopFilter`` with renumbering that keeps a compound's parts on one position.

    Whoosh's own renumbering counts every kept token, which would spread ``e-1102``, ``e``,
    ``1102`` over three positions. ``the e-1102 error`` becomes ``e-1102``@0, ``e``@0,
    ``1102``@0, ``error``@1.
    """

    def __call__(self, tokens):
        stoplist, minsize, maxsize = self.stops, self.min, self.max
        last_original = new_pos = None
        for token in tokens:
            text = token.text
            if len(text) >= minsize and (maxsize is None or len(text) <= maxsize) and (text not in stoplist):
                if self.renumber and token.positions:
                    if last_original != token.pos:
                        new_pos = token.pos if new_pos is None else new_pos + 1
                        last_original = token.pos
                    token.pos = new_pos
                token.stopped = False
                yield token
            elif not token.removestops:
                token.stopped = True
                yield token

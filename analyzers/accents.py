"""Folding accents and compatibility forms, word by word, so accented and plain spellings meet."""

import unicodedata


def fold_accents(text):
    """Strip accents and compatibility forms from a word.

    :param text: a word, e.g. ``"café"`` or ``"ﬁle"``.
    :returns: the folded word (``"cafe"``, ``"file"``); ASCII input is returned as is.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))

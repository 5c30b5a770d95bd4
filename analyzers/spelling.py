"""UK, Canadian and Oxford spellings to US spelling, word by word.

The pairs come from VarCon through ``tools/build_uk_us_list.py`` into ``data/uk_to_us.tsv``;
sense-dependent pairs (programme, disc, tyre, cheque, metre, ...) are left out there.
The index and the query both pass through :func:`us_spelling`, so "colour" meets "color".
"""

from functools import lru_cache
from pathlib import Path

from analyzers.word_lists import word_pairs

DATA_PATH = Path(__file__).parent / "data" / "uk_to_us.tsv"


class SpellingListError(Exception):
    """The UK→US list is missing or malformed."""


@lru_cache(maxsize=1)
def uk_to_us_pairs():
    """Load the variant → US map once per process.

    :returns: a dict of lowercase variant form → lowercase US form.
    :raises SpellingListError: when the TSV is missing or a line lacks two columns.
    """
    return dict(word_pairs(DATA_PATH, "variant\tus", SpellingListError, "tools/build_uk_us_list.py"))


def us_spelling(word):
    """Return the US spelling of a lowercase word.

    :param word: a lowercase word, e.g. ``"colour"``.
    :returns: its US form (``"color"``), or ``word`` itself when it has none.
    """
    return uk_to_us_pairs().get(word, word)


def is_spelling_variant(word):
    """Tell whether a lowercase word is a non-US spelling that :func:`us_spelling` changes.

    :param word: a lowercase word.
    :returns: ``True`` for ``"licence"``, ``False`` for ``"license"`` or ``"router"``.
    """
    return us_spelling(word) != word

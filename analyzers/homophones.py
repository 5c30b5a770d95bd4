"""Common English words that sound exactly alike ("male" and "mail", "sight" and "site"), for reading a word the
agent typed by ear.

The pairs come from the CMU Pronouncing Dictionary through ``tools/build_homophones.py`` into
``data/homophones.tsv`` (source and licence in ``data/homophones.SOURCE.md``).
"""

from functools import lru_cache
from pathlib import Path

from analyzers.word_lists import word_pairs

DATA_PATH = Path(__file__).parent / "data" / "homophones.tsv"


class HomophoneListError(Exception):
    """The homophone list is missing or malformed."""


@lru_cache(maxsize=1)
def homophone_table():
    """Load the word → homophones map once per process.

    :returns: a dict of lowercase word → tuple of its homophones, in the file's (alphabetical) order.
    :raises HomophoneListError: when the TSV is missing or a line lacks two columns.
    """
    table = {}
    for word, other in word_pairs(DATA_PATH, "word\thomophone", HomophoneListError, "tools/build_homophones.py"):
        table.setdefault(word, []).append(other)
    return {word: tuple(others) for word, others in table.items()}


def homophones(word):
    """The common English words that sound exactly as a lowercase word does (empty when none)."""
    return homophone_table().get(word, ())

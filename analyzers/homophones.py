"""Common English words that sound exactly alike ("male" and "mail", "sight" and "site"), for reading a word the
agent typed by ear.

The pairs come from the CMU Pronouncing Dictionary through ``tools/build_homophones.py`` into
``data/homophones.tsv`` (source and licence in ``data/homophones.SOURCE.md``).
"""

from functools import lru_cache
from pathlib import Path

DATA_PATH = Path(__file__).parent / "data" / "homophones.tsv"
_HEADER = "word\thomophone"


class HomophoneListError(Exception):
    """The homophone list is missing or malformed."""


@lru_cache(maxsize=1)
def homophone_table():
    """Load the word → homophones map once per process.

    :returns: a dict of lowercase word → tuple of its homophones, in the file's (alphabetical) order.
    :raises HomophoneListError: when the TSV is missing or a line lacks two columns.
    """
    try:
        lines = DATA_PATH.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise HomophoneListError(f"cannot read {DATA_PATH}: {error}; run tools/build_homophones.py") from error
    table = {}
    for number, line in enumerate(lines, start=1):
        if not line or line.startswith("#") or line == _HEADER:
            continue
        columns = line.split("\t")
        if len(columns) != 2:
            raise HomophoneListError(f"{DATA_PATH}, line {number}: expected 'word<TAB>homophone'")
        table.setdefault(columns[0], []).append(columns[1])
    return {word: tuple(others) for word, others in table.items()}


def homophones(word):
    """The common English words that sound exactly as a lowercase word does (empty when none)."""
    return homophone_table().get(word, ())

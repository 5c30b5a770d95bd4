"""Synonym groups for query expansion, read from an editable text file.

``data/synonyms.txt`` holds one group per line, members separated by commas, ``#`` lines as
comments; members may be phrases (``blue screen``). A term may appear in one group only.
"""

import re
from pathlib import Path

DEFAULT_PATH = Path(__file__).parent / "data" / "synonyms.txt"

_ALLOWED = re.compile(r"^[\w][\w .#+'&/-]*$")


class SynonymsFileError(ValueError):
    """A line of the synonyms file cannot be used; the message names the file and line."""


def _parse_line(line, number, path):
    """Turn one non-comment line into its lowercase members, checking them."""
    members = [" ".join(part.split()).lower() for part in line.split(",")]
    if any(not member for member in members):
        raise SynonymsFileError(f"{path}, line {number}: empty member; remove the extra comma")
    bad = [member for member in members if not _ALLOWED.match(member)]
    if bad:
        raise SynonymsFileError(
            f"{path}, line {number}: unexpected characters in {bad[0]!r}; use letters, digits, spaces and - . # + ' & /"
        )
    unique = list(dict.fromkeys(members))
    if len(unique) < 2:
        raise SynonymsFileError(
            f"{path}, line {number}: a group needs at least two different members, separated by commas"
        )
    return unique


def load_synonyms(path=None):
    """Read a synonyms file into a map of each term to the other members of its group.

    :param path: the file to read; ``None`` reads ``analyzers/data/synonyms.txt``.
    :returns: a dict of lowercase term or phrase → list of its synonyms, in file order:
        ``{"pw": ["password", "passwd", "passcode"], "password": ["pw", ...], ...}``.
    :raises SynonymsFileError: when a line has an empty member, odd characters, fewer than two
        members, or repeats a term from an earlier line; the message names the line number.
    :raises OSError: when the file cannot be read.
    """
    path = Path(path) if path is not None else DEFAULT_PATH
    synonyms, first_line = {}, {}
    text = path.read_text(encoding="utf-8")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        group = _parse_line(line, number, path)
        for term in group:
            if term in first_line:
                raise SynonymsFileError(
                    f"{path}, line {number}: {term!r} is already in the group on line "
                    f"{first_line[term]}; merge the two lines"
                )
            first_line[term] = number
        for term in group:
            synonyms[term] = [other for other in group if other != term]
    return synonyms

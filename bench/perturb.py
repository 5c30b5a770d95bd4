"""Deterministic query perturbations: real misspellings and British spellings.

Both perturbations draw from word lists in the data folder (codespell's misspellings and VarCon's
spellings, ``bench.data``) and choose by a SHA-256 hash of (seed key, word), never by ``random`` or
Python's salted ``hash()``, so a given query perturbs the same way on every run and machine. Without
the data folder, :class:`SwappedLetters` and :func:`load_product_us_to_uk` stand in for the speed benchmark.
"""

import hashlib
import re
from functools import lru_cache
from types import MappingProxyType

from bench.data import MISSPELLINGS_FILE, REPO, US_UK_FILE, read_tsv

# The product's own UK -> US list, read backwards when there is no data folder.
PRODUCT_UK_TO_US = REPO / "analyzers" / "data" / "uk_to_us.tsv"

# VarCon clusters whose British form depends on the sense; in tech writing the UK keeps
# the US form ("computer program", "disk", "spell checker", "draft email").
SENSE_DEPENDENT = frozenset({"program", "disk", "tire", "check", "meter", "draft", "story", "curb", "practice"})

# A plain word ("color's" included) standing alone between spaces, maybe wrapped in
# brackets, quotes or end punctuation; identifiers like "ec=1129" or "a.b.serialization"
# are left alone.
WORD = re.compile(
    r"(?<!\S)(?P<lead>[(\[{\"'“‘]*)"
    r"(?P<word>[A-Za-z]+(?:'[A-Za-z]+)?)"
    r"(?P<tail>[)\]}\"'”’.,;:!?]*)(?!\S)"
)
PLAIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def _score(seed_key, word):
    """A stable number in [0, 1) for (seed_key, word)."""
    digest = hashlib.sha256(f"{seed_key}\0{word}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _match_case(original, replacement):
    """Give ``replacement`` the case pattern of ``original`` (lower, Capital or UPPER)."""
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


@lru_cache(maxsize=2)
def load_misspellings(data_dir):
    """Load codespell's list inverted: correct word → its real misspellings.

    Kept: unambiguous entries (``auto_fix=1``) whose correction is one lowercase word of
    at least 4 letters and whose misspelling is all letters.

    :param data_dir: the data folder (a Path), holding ``codespell_dictionary/misspellings.tsv``.
    :returns: a read-only mapping such as ``"receive" → ("reaceive", ..., "recieve", ...)``,
        misspellings sorted.
    :raises BenchDataError: when the file is missing.
    """
    table = {}
    for row in read_tsv(data_dir / MISSPELLINGS_FILE):
        correct, wrong = row["corrections"], row["misspelling"]
        if row["auto_fix"] != "1" or len(correct) < 4:
            continue
        if not (correct.isascii() and correct.isalpha() and correct.islower()):
            continue
        if wrong.isalpha() and wrong.lower() != correct:
            table.setdefault(correct, set()).add(wrong.lower())
    return MappingProxyType({word: tuple(sorted(wrongs)) for word, wrongs in table.items()})


def inject_typos(text, misspellings, seed_key, words_per_typo=4):
    """Replace some words of ``text`` with real misspellings of them.

    At most one word per ``words_per_typo`` words (at least one) is replaced; the words and
    their misspellings are chosen by a hash of ``(seed_key, word)``.
    Example: ``"receive the address"`` may become ``"recieve the address"``.

    :param text: the query.
    :param misspellings: correct word → misspellings, as from :func:`load_misspellings`.
    :param seed_key: any text, usually the query id, that fixes the choice.
    :param words_per_typo: how many words of the query may share one typo.
    :returns: the perturbed text, or ``None`` when no word has a known misspelling.
    """
    words = text.split()
    candidates = [m for m in WORD.finditer(text) if m["word"].lower() in misspellings]
    if not candidates:
        return None
    budget = max(1, len(words) // words_per_typo)
    chosen = sorted(candidates, key=lambda m: _score(seed_key, m["word"].lower()))[:budget]
    pieces, end = [], 0
    for match in sorted(chosen, key=lambda m: m.start("word")):
        word = match["word"].lower()
        options = misspellings[word]
        typo = options[int(_score(f"{seed_key}\0typo", word) * len(options))]
        pieces += [text[end : match.start("word")], _match_case(match["word"], typo)]
        end = match.end("word")
    return "".join(pieces) + text[end:]


@lru_cache(maxsize=2)
def load_us_to_uk(data_dir):
    """Load VarCon's US → British (-ise) spellings, without sense-dependent clusters.

    :param data_dir: the data folder (a Path), holding ``us_uk_spelling/varcon_us_uk_pairs.tsv``.
    :returns: a read-only mapping of lowercase US word → lowercase UK word,
        e.g. ``"color" → "colour"``, ``"license" → "licence"``; ``"program"`` is absent.
    :raises BenchDataError: when the file is missing.
    """
    pairs = {}
    for row in read_tsv(data_dir / US_UK_FILE):
        us = row["us"]
        # Capitalised rows are proper nouns ("Idea" → "Idaea"); rare unverified rows
        # are archaic forms ("ec" → "aec").
        common = row["verified"] == "yes" or int(row["scowl_level"]) <= 70
        if us != us.lower() or not common or row["cluster_headword"] in SENSE_DEPENDENT:
            continue
        # One row carries an editor's note after "#" in its uk_ise column.
        uk = row["uk_ise"].split("#")[0].strip().lower()
        if us != uk and PLAIN_WORD.fullmatch(uk):
            pairs.setdefault(us, uk)
    return MappingProxyType(pairs)


def britishise(text, pairs):
    """Rewrite the US spellings in ``text`` in British (-ise) spelling.

    Example: ``"color printer license"`` becomes ``"colour printer licence"``.

    :param text: the query.
    :param pairs: lowercase US word → UK word, as from :func:`load_us_to_uk`.
    :returns: the rewritten text, or ``None`` when no word changed.
    """

    def swap(match):
        uk = pairs.get(match["word"].lower())
        if uk is None:
            return match.group()
        return match["lead"] + _match_case(match["word"], uk) + match["tail"]

    changed = WORD.sub(swap, text)
    return None if changed == text else changed


class SwappedLetters:
    """Made-up misspellings, for when codespell's list is not at hand: two neighbouring inner letters swapped.

    Answers ``in`` and ``[]`` as :func:`load_misspellings`'s mapping does, for any lowercase word of 4 or more
    letters; the first and last letters stay. Example: ``"printer"`` → ``("pirnter", "prinetr", "pritner", "prniter")``.
    """

    def __contains__(self, word):
        return len(word) >= 4 and word.isascii() and word.isalpha() and word.islower() and bool(self[word])

    def __getitem__(self, word):
        swaps = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(1, len(word) - 2)}
        return tuple(sorted(swaps - {word}))


@lru_cache(maxsize=1)
def load_product_us_to_uk(path=PRODUCT_UK_TO_US):
    """US → British spellings read backwards from the product's own list, for when VarCon is not at hand.

    :param path: ``analyzers/data/uk_to_us.tsv`` (``variant<TAB>us`` lines after a comment and a header).
    :returns: a read-only mapping of US word → the alphabetically first of its variants, e.g. ``"color" → "colour"``.
    """
    pairs = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            variant, _, us = line.rstrip("\n").partition("\t")
            if line.startswith("#") or variant == "variant" or not us:
                continue
            if us not in pairs or variant < pairs[us]:
                pairs[us] = variant
    return MappingProxyType(pairs)

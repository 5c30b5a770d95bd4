"""Build ``analyzers/data/uk_to_us.tsv`` (British/Canadian/Australian form -> US form) from VarCon.

Run from anywhere: ``python tools/build_uk_us_list.py [--data DIR]``. The input is VarCon as prepared in the
data folder's ``us_uk_spelling/`` (``docs/data.md``; by default ``../shared/data`` beside the clone); the output
is overwritten.

Rules, in order (each drop is counted and printed):
1. every non-US column of ``varcon_us_uk_pairs.tsv`` that differs from the ``us`` column gives a pair;
2. a form that is itself a preferred American spelling anywhere in ``varcon.txt`` (tag ``A`` or ``A.``)
   is dropped, so a word that means something else in US English is never rewritten
   (``tonne``, ``disc``, ``dialogue``, ``apprise``);
3. a pair from a ``varcon.txt`` line with a sense note (``| wheel``, ``| :1``) is dropped;
   part-of-speech-only notes (``| <N>``) are kept, so ``licence`` still becomes ``license``;
4. forms in ``SENSE_DEPENDENT`` clusters are dropped by hand (``KEEP_DESPITE_NOTE`` overrides rule 3);
5. a form that would map to two different US forms is dropped.
"""

import argparse
import csv
import gzip
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT_TSV = REPO / "analyzers" / "data" / "uk_to_us.tsv"

VARIANT_COLUMNS = ("uk_ise", "uk_ize_oxford", "canadian", "australian")

# Cluster headwords (US form) whose UK spelling carries a different sense, or is a different US word.
SENSE_DEPENDENT = {
    "program",  # computer program is "program" in the UK too; "programme" is a TV show
    "disk",
    "disc",
    "tire",  # tyre (wheel) vs tire (be weary)
    "check",  # cheque vs check
    "meter",  # metre vs meter (device)
    "draft",  # draught (air, beer) vs draft (document)
    "story",  # storey (floor) vs story
    "curb",  # kerb vs curb (restrain)
    "practice",  # UK verb/noun split; the brief keeps them apart
    "ton",
    "tonne",
    "whiskey",
    "whisky",
    "prize",  # prise (lever open) vs prize
    "inquiry",  # enquiry/inquiry differ in sense in UK usage
    "analog",  # analogue (analogous) vs analog (vs digital)
    "dialog",  # dialogue (conversation) vs dialog box
    "annex",  # annexe (building) vs annex (verb)
    "artsy",
    "math",
    "pedal",
    "jail",
}

# Variants whose sense note in varcon.txt concerns another sense (a surname, a colour noun) that
# no support call would need kept apart; rule 3 would otherwise drop these common words.
KEEP_DESPITE_NOTE = {
    "grey",
    "greys",
    "greyed",
    "greying",
    "greyer",
    "greyest",
    "greyish",
    "greyness",
    "aeon",
    "aeons",
    "enthral",
    "enthrals",
}

ANNOTATION = re.compile(r"\|\s*(.*)$")
POS_ONLY = re.compile(r"^(<[A-Za-z]+>\s*)+$")
ENTRY = re.compile(r"^\s*([A-Z_][A-Za-z_.\-vV 0-9]*?):\s*(.+?)\s*$")


def read_varcon(path):
    """Scan ``varcon.txt`` for American words and sense-annotated words.

    :param path: the gzipped VarCon data file.
    :returns: ``(american, sense_noted)``: lowercase words tagged plain ``A``/``A.`` anywhere, and
        lowercase words appearing on a line whose usage note is more than a part of speech.
    """
    american, sense_noted = set(), set()
    with gzip.open(path, "rt", encoding="iso-8859-1") as lines:
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            note = ANNOTATION.search(line)
            body = line[: note.start()] if note else line
            noted = bool(note) and not POS_ONLY.match(note.group(1).strip())
            for part in body.split(" / "):
                match = ENTRY.match(part)
                if not match:
                    continue
                tags, word = match.group(1).split(), match.group(2).lower()
                if any(tag in ("A", "A.") for tag in tags):
                    american.add(word)
                if noted:
                    sense_noted.add(word)
    return american, sense_noted


def build_pairs(pairs_path, varcon_path):
    """Apply the module's rules and return the kept pairs and drop counts.

    :param pairs_path: ``varcon_us_uk_pairs.tsv``.
    :param varcon_path: ``varcon.txt.gz``.
    :returns: ``(pairs, drops)``: a dict of variant form -> US form, and a Counter of drop reasons.
    """
    american, sense_noted = read_varcon(varcon_path)
    targets = defaultdict(set)
    drops = Counter()
    with open(pairs_path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            us = row["us"].strip().lower()
            headword = row["cluster_headword"].strip().lower()
            for column in VARIANT_COLUMNS:
                form = row[column].strip().lower()
                if not form or form == us:
                    continue
                if headword in SENSE_DEPENDENT or us in SENSE_DEPENDENT:
                    drops["sense-dependent (hand list)"] += 1
                elif form in american:
                    drops["variant is itself an American word"] += 1
                elif (form in sense_noted or us in sense_noted) and form not in KEEP_DESPITE_NOTE:
                    drops["sense note in varcon.txt"] += 1
                else:
                    targets[form].add(us)
    pairs = {}
    for form, us_forms in targets.items():
        if len(us_forms) == 1:
            pairs[form] = next(iter(us_forms))
        else:
            drops["ambiguous (two US forms)"] += 1
    return pairs, drops


def main(argv=None):
    """Write the TSV and print what was kept and dropped.

    :returns: the process exit code (2, with a message, when the data folder lacks VarCon's files).
    """
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # run as a script from anywhere: bench/ is beside tools/
    from bench.data import US_UK_FILE, VARCON_FILE, add_data_argument, data_or_exit

    parser = argparse.ArgumentParser(prog="python tools/build_uk_us_list.py", description=__doc__.split("\n\n")[0])
    add_data_argument(parser)
    data = data_or_exit(parser.prog, parser.parse_args(argv).data, (US_UK_FILE, VARCON_FILE))
    pairs, drops = build_pairs(data / US_UK_FILE, data / VARCON_FILE)
    OUTPUT_TSV.parent.mkdir(parents=True, exist_ok=True)
    with open(OUTPUT_TSV, "w", encoding="utf-8", newline="\n") as out:
        out.write("# Generated by tools/build_uk_us_list.py from VarCon; see uk_to_us.SOURCE.md.\n")
        out.write("variant\tus\n")
        for form in sorted(pairs):
            out.write(f"{form}\t{pairs[form]}\n")
    print(f"wrote {len(pairs)} pairs to {OUTPUT_TSV.relative_to(REPO)}")
    for reason, count in drops.most_common():
        print(f"  dropped {count:5d}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

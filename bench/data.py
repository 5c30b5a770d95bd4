"""The benchmark data folder: where it is, which public data sets it holds, and what to say when one is missing.

The relevance and feedback benchmarks, the real-vocabulary timings and ``tools/build_uk_us_list.py`` read public
data sets that this repository does not ship; ``docs/data.md`` gives each one's source, licence and file format.
Every one of them takes the folder as ``--data DIR``, by default ``../shared/data`` beside the clone where it
exists. The speed benchmark runs without it, on ``sample/calls.jsonl`` alone.
"""

import csv
import gzip
import json
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DOC = "docs/data.md"

# What each reader opens, relative to the data folder.
CALL_FILES = (
    "stackfaq/faq_threads.jsonl",
    "gitbugs_duplicates/reports.jsonl.gz",
    "ms_office_support_kb/articles.jsonl.gz",
)
QUERY_FILES = (
    "stackfaq/queries.tsv",
    "gitbugs_duplicates/duplicate_pairs.tsv",
    "ms_office_support_kb/derived_error_message_queries.tsv",
)
MISSPELLINGS_FILE = "codespell_dictionary/misspellings.tsv"
US_UK_FILE = "us_uk_spelling/varcon_us_uk_pairs.tsv"
VARCON_FILE = "us_uk_spelling/varcon.txt.gz"
WORD_LIST_FILES = (MISSPELLINGS_FILE, US_UK_FILE)


@dataclass(frozen=True)
class DataSet:
    """One public data set: what it is, where it comes from, under which licence."""

    name: str
    source: str
    licence: str


DATA_SETS = {
    "stackfaq": DataSet(
        "StackFAQ (Karan & Šnajder 2018): 125 Web Applications Stack Exchange threads, 1,249 rephrasings",
        "TakeLab, University of Zagreb; a copy in github.com/ML-Recipes/BERT-FAQ, data/StackFAQ",
        "Stack Exchange text CC BY-SA 3.0; no licence stated for the rephrasings (research use)",
    ),
    "gitbugs_duplicates": DataSet(
        "GitBugs (Patil, Han & Jadon 2024): 3,579 Hadoop and SeaMonkey bug reports, duplicate links",
        "github.com/av9ash/gitbugs, hadoop/ and seamonkey/",
        "CC BY 4.0",
    ),
    "ms_office_support_kb": DataSet(
        "Microsoft OfficeDocs-Support: 2,426 Office troubleshooting articles",
        "github.com/MicrosoftDocs/OfficeDocs-Support",
        "CC BY 4.0",
    ),
    "codespell_dictionary": DataSet(
        "codespell's dictionary: 64,980 real misspellings",
        "PyPI codespell 2.4.3, codespell_lib/data/dictionary.txt",
        "CC BY-SA 3.0",
    ),
    "us_uk_spelling": DataSet(
        "VarCon: US, British, Canadian and Australian spellings",
        "github.com/en-wl/wordlist, varcon/varcon.txt (SCOWL, wordlist.aspell.net)",
        "VarCon's permissive licence (keep its copyright notice)",
    ),
}


class BenchDataError(Exception):
    """A data file is missing or does not match what the loader expects."""


class DataMissingError(BenchDataError):
    """Files a benchmark needs are not in the data folder; the message says which and where to get them."""


def default_data():
    """The data folder to use when ``--data`` is not given.

    :returns: ``../shared/data`` beside the clone when it is a folder, else None.
    """
    return DEFAULT_DATA if DEFAULT_DATA.is_dir() else None


def add_data_argument(parser, fallback=""):
    """Add ``--data DIR`` to an argparse parser.

    :param fallback: what the program uses instead when there is no data folder, for one that runs without it.
    """
    without = f"; without one, {fallback}" if fallback else ""
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"the public data sets ({DOC}); default ../shared/data beside the clone, where it exists{without}",
    )


def missing_message(folder, files):
    """Say which files are missing from ``folder`` and where each data set comes from.

    :param folder: the data folder tried (a Path), or None when there is none.
    :param files: the files needed, relative to the folder.
    :returns: the message, several lines, or "" when nothing is missing.
    """
    missing = list(files) if folder is None else [name for name in files if not (folder / name).is_file()]
    if not missing:
        return ""
    if folder is None:
        lines = [f"no data folder: give one with --data DIR ({DEFAULT_DATA} does not exist)."]
    elif not folder.is_dir():
        lines = [f"the data folder {folder} does not exist."]
    else:
        lines = [f"the data folder {folder} lacks {', '.join(missing)}."]
    lines.append(f"It needs these public data sets ({DOC} gives each file's format):")
    for key in dict.fromkeys(name.split("/")[0] for name in missing):
        found = DATA_SETS[key]
        lines.append(f"  {key}/  {found.name}; from {found.source}; {found.licence}")
    return "\n".join(lines)


def require(folder, files):
    """Check that the data folder holds ``files``.

    :param folder: a Path, or None when there is no data folder.
    :param files: the files needed, relative to the folder.
    :returns: ``folder``.
    :raises DataMissingError: naming the missing files and their data sets' sources.
    """
    message = missing_message(folder, files)
    if message:
        raise DataMissingError(message)
    return folder


def data_or_exit(prog, folder, files):
    """The data folder for a command line program, or exit 2 saying what is missing (no traceback).

    :param prog: the program's name, e.g. ``python -m bench.relevance``.
    :param folder: ``--data`` as given, or None for the default.
    :param files: the files needed, relative to the folder.
    :returns: the folder (a Path) holding every file.
    """
    folder = folder or default_data()
    try:
        return require(folder, files)
    except DataMissingError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        sys.exit(2)


def optional_data_or_exit(prog, folder, files):
    """Like :func:`data_or_exit` for a program that also runs without data: None when there is no folder at all.

    :returns: the folder holding every file, or None when ``--data`` was not given and the default does not exist.
    """
    if folder is None and default_data() is None:
        return None
    return data_or_exit(prog, folder, files)


def read_jsonl(path):
    """Yield the JSON objects of a (possibly gzipped) JSON Lines file.

    :raises BenchDataError: when the file cannot be read.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)
    except OSError as error:
        raise BenchDataError(f"cannot read {path}: {error}") from error


def read_tsv(path):
    """Return the rows of a headed TSV file as dicts.

    :raises BenchDataError: when the file cannot be read.
    """
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except OSError as error:
        raise BenchDataError(f"cannot read {path}: {error}") from error

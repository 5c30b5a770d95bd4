"""A deterministic synthetic knowledge base of support calls, for the speed benchmark.

Calls are stitched from real sentences: the sample knowledge base (``sample/calls.jsonl``)
and, when a data folder is given, the real corpora (``bench.corpora.all_calls``). So the
vocabulary is real tech language with a natural (Zipf) word-frequency curve, and it keeps
growing with N as in a real knowledge base: some calls get a product, an error code or a
version number of their own. Agent queries are 2–5 words of one call, some misspelt with real
codespell misspellings and some in British spelling (``bench.perturb``). Without a data folder
the sample alone gives the sentences (a smaller vocabulary), misspellings swap two letters and
British spellings come from the product's own list.

Run ``python -m bench.synthetic N OUT.jsonl [--seed S] [--data DIR]`` to write N calls as JSON Lines.
"""

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from whoosh.analysis.filters import STOP_WORDS

from bench import corpora, perturb
from bench.data import CALL_FILES, WORD_LIST_FILES, add_data_argument, optional_data_or_exit

SAMPLE_CALLS = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"
DEFAULT_SEED = 20240501
SENTENCE = re.compile(r"(?<=[.!?])\s+")
# Sentences outside this many words are headings, code or run-ons, not a call's prose.
MIN_WORDS, MAX_WORDS = 4, 40
QUERY_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
# The sample's agent-written calls are few but the kind of text to expect; they get this share.
CALL_SHARE = 0.4
ERROR_CODE_SHARE = 0.3
OWN_PRODUCT_SHARE = 0.05
TYPO_QUERY_SHARE = 0.25
BRITISH_QUERY_SHARE = 0.15


@dataclass(frozen=True)
class Pools:
    """What synthetic calls are made of."""

    titles: tuple
    sentences: tuple
    call_titles: tuple
    call_sentences: tuple
    products: tuple
    categories: tuple
    tags: tuple


def _sentences(text):
    for part in SENTENCE.split(" ".join(text.split())):
        if MIN_WORDS <= len(part.split()) <= MAX_WORDS:
            yield part


def _read_sample(path=SAMPLE_CALLS):
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def describe_sources(data_dir):
    """One sentence saying what the calls and queries are drawn from (printed by the benchmarks).

    :param data_dir: the data folder, or None.
    """
    if data_dir is None:
        return (
            "No data folder: calls drawn from sample/calls.jsonl alone, misspellings made by swapping two letters, "
            "British spellings from analyzers/data/uk_to_us.tsv (give --data DIR for the real corpora's sentences)"
        )
    return (
        f"Calls drawn from sample/calls.jsonl and the real corpora in {data_dir}, "
        "misspellings from codespell, British spellings from VarCon"
    )


def needed_files():
    """The data folder's files these calls and queries read, when there is a folder."""
    return CALL_FILES + WORD_LIST_FILES


@lru_cache(maxsize=2)
def load_pools(data_dir=None):
    """Collect titles, sentences, products, categories and tags from the sample and the real records.

    :param data_dir: the data folder (a Path) with the real corpora, or None for the sample alone.
    :returns: a :class:`Pools`, every tuple in a fixed order.
    """
    sample = _read_sample()
    records = sample + (corpora.all_calls(data_dir) if data_dir else [])
    titles, sentences = {}, {}
    products, categories, tags = {}, {}, {}
    for record in records:
        if 3 <= len(record["title"].split()) <= 15:
            titles.setdefault(record["title"])
        for field in ("problem", "resolution"):
            # The first sentences only: a 100,000-character article is not one call.
            for number, sentence in enumerate(_sentences(record[field][:4000])):
                if number == 12:
                    break
                sentences.setdefault(sentence)
        products.setdefault(record["product"])
        categories.setdefault(record["category"])
        for tag in record["tags"]:
            if not tag.startswith(("priority:", "version:")):
                tags.setdefault(tag)
    call_sentences = dict.fromkeys(s for r in sample for f in ("problem", "resolution") for s in _sentences(r[f]))
    return Pools(
        titles=tuple(titles),
        sentences=tuple(sentences),
        call_titles=tuple(record["title"] for record in sample),
        call_sentences=tuple(call_sentences),
        products=tuple(p for p in products if p),
        categories=tuple(c for c in categories if c),
        tags=tuple(tags),
    )


def _zipf_choice(rng, items, s=1.1):
    """Pick from ``items`` with Zipf-like weights (the first items are the common ones)."""
    # Inverse transform of a continuous power law over ranks 1..n.
    n = len(items)
    u = rng.random()
    rank = int(((n ** (1 - s) - 1) * u + 1) ** (1 / (1 - s)))
    return items[min(max(rank, 1), n) - 1]


def _sentence(rng, pools):
    return rng.choice(pools.call_sentences if rng.random() < CALL_SHARE else pools.sentences)


def _error_code(rng):
    return rng.choice(
        (
            f"0x8{rng.randrange(16**7):07X}",
            f"error {rng.randrange(100, 9999)}",
            f"E{rng.randrange(1000, 99999)}",
            f"KB{rng.randrange(100000, 999999)}",
        )
    )


def synthetic_call(number, rng, pools):
    """One synthetic call record.

    :param number: its position, which makes its id (``SYN-0000001``).
    :param rng: a ``random.Random``.
    :param pools: a :class:`Pools`.
    :returns: a raw call record the importer accepts.
    """
    product = _zipf_choice(rng, pools.products)
    if rng.random() < OWN_PRODUCT_SHARE:
        product = f"{product} {rng.choice(('Pro', 'Plus', 'X', 'Mini', 'Max'))} {rng.randrange(2, 40)}"
    title = rng.choice(pools.call_titles if rng.random() < CALL_SHARE else pools.titles)
    problem = [_sentence(rng, pools) for _ in range(rng.randint(1, 3))]
    resolution = [_sentence(rng, pools) for _ in range(rng.randint(1, 4))]
    if rng.random() < ERROR_CODE_SHARE:
        code = _error_code(rng)
        title = f"{title} - {code}"
        problem.append(f"The message says {code}.")
    if rng.random() < 0.5:
        problem.insert(0, f"{product}:")
    return {
        "id": f"SYN-{number:07d}",
        "title": title[:1000],
        "problem": " ".join(problem),
        "resolution": " ".join(resolution),
        "product": product[:200],
        "category": _zipf_choice(rng, pools.categories),
        "tags": sorted({_zipf_choice(rng, pools.tags) for _ in range(rng.randint(0, 3))}) if pools.tags else [],
        "created_at": f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
        "resolved": rng.random() < 0.9,
    }


def generate_calls(n, seed=DEFAULT_SEED, data_dir=None):
    """Yield ``n`` synthetic calls; the same ``n``, ``seed`` and data give the same calls.

    :param n: how many calls.
    :param seed: any integer.
    :param data_dir: the data folder, or None for the sample alone.
    """
    rng, pools = random.Random(seed), load_pools(data_dir)
    for number in range(1, n + 1):
        yield synthetic_call(number, rng, pools)


def _query_words(record, rng):
    words = [w for w in QUERY_WORD.findall(f"{record['title']} {record['problem']}") if w.lower() not in STOP_WORDS]
    words = list(dict.fromkeys(words)) or [record["title"].split()[0]]
    count = min(len(words), rng.randint(2, 5))
    start = rng.randrange(len(words) - count + 1)
    return " ".join(words[start : start + count]).lower()


def agent_query(records, rng, misspellings, us_to_uk, tries=30):
    """A query an agent could type: 2–5 words of one call, in order, maybe misspelt or British.

    The kind is drawn first; a misspelt or British query takes the first of up to ``tries``
    drawn calls whose words the perturbation changes, else the query stays clean.

    :param records: call records (a list).
    :returns: ``(kind, text)`` where kind is ``clean``, ``typo`` or ``british``.
    """
    roll = rng.random()
    kind = "clean"
    if roll < TYPO_QUERY_SHARE:
        kind = "typo"
    elif roll < TYPO_QUERY_SHARE + BRITISH_QUERY_SHARE:
        kind = "british"
    for attempt in range(tries if kind != "clean" else 1):
        record = rng.choice(records)
        text = _query_words(record, rng)
        if kind == "typo":
            changed = perturb.inject_typos(text, misspellings, f"{record['id']}-{attempt}", words_per_typo=2)
        elif kind == "british":
            changed = perturb.britishise(text, us_to_uk)
        else:
            return "clean", text
        if changed:
            return kind, changed
    return "clean", text


def agent_queries(records, count, seed=DEFAULT_SEED, data_dir=None):
    """``count`` agent queries drawn from ``records`` (a list), the same for the same seed and data.

    :param data_dir: the data folder with codespell's and VarCon's lists, or None for made-up misspellings
        and the product's own British spellings.
    :returns: a list of ``(kind, text)``.
    """
    rng = random.Random(seed + 1)
    if data_dir:
        misspellings, us_to_uk = perturb.load_misspellings(data_dir), perturb.load_us_to_uk(data_dir)
    else:
        misspellings, us_to_uk = perturb.SwappedLetters(), perturb.load_product_us_to_uk()
    return [agent_query(records, rng, misspellings, us_to_uk) for _ in range(count)]


def write_calls(n, path, seed=DEFAULT_SEED, data_dir=None):
    """Write ``n`` synthetic calls to ``path`` as JSON Lines.

    :param data_dir: the data folder, or None for the sample alone.
    :returns: the records written, as a list (to draw queries from).
    """
    records = list(generate_calls(n, seed, data_dir))
    corpora.write_jsonl(records, path)
    return records


def main(argv=None):
    """Write synthetic calls from the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.synthetic", description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="how many calls")
    parser.add_argument("out", type=Path, help="the .jsonl file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    add_data_argument(parser, fallback="sample/calls.jsonl alone")
    args = parser.parse_args(argv)
    data = optional_data_or_exit(parser.prog, args.data, needed_files())
    write_calls(args.n, args.out, args.seed, data)
    print(f"wrote {args.n} calls to {args.out}; {describe_sources(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

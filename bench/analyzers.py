"""How long the analysis parts take on the real corpus vocabulary: ``python -m bench.analyzers [--data DIR]``.

Measures building the typo corrector and the phonetic lookup from the ~6,130 real records'
words, and the time per correction of real misspellings (codespell), p50/p95.
"""

import argparse
import statistics
import time

from analyzers.analyzer import words_analyzer
from analyzers.phonetic import PhoneticLookup
from analyzers.typos import TypoCorrector, english_words
from bench.corpora import all_calls
from bench.data import CALL_FILES, MISSPELLINGS_FILE, add_data_argument, data_or_exit
from bench.perturb import load_misspellings


def corpus_vocabulary(data_dir):
    """Word -> document frequency over the real corpora, as the ``words`` field indexes them.

    :param data_dir: the data folder (a Path).
    """
    analyzer, frequencies = words_analyzer(), {}
    for call in all_calls(data_dir):
        for word in {token.text for token in analyzer(f"{call['title']} {call['problem']} {call['resolution']}")}:
            frequencies[word] = frequencies.get(word, 0) + 1
    return frequencies


def _percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main(argv=None):
    """Print the measurements."""
    parser = argparse.ArgumentParser(prog="python -m bench.analyzers", description=__doc__.split("\n\n")[0])
    add_data_argument(parser)
    data = data_or_exit(parser.prog, parser.parse_args(argv).data, CALL_FILES + (MISSPELLINGS_FILE,))
    started = time.perf_counter()
    english_words()
    print(f"English word list load: {time.perf_counter() - started:.2f} s")
    vocabulary = corpus_vocabulary(data)
    started = time.perf_counter()
    corrector = TypoCorrector(vocabulary)
    print(f"TypoCorrector over {len(vocabulary):,} words: {time.perf_counter() - started:.2f} s to build")
    started = time.perf_counter()
    PhoneticLookup(vocabulary)
    print(f"PhoneticLookup over {len(vocabulary):,} words: {time.perf_counter() - started:.2f} s to build")
    misspelt = [typo for word, typos in load_misspellings(data).items() if word in vocabulary for typo in typos][:2000]
    timings, fixed = [], 0
    for typo in misspelt:
        begin = time.perf_counter()
        fixed += bool(corrector.corrections(typo))
        timings.append((time.perf_counter() - begin) * 1000)
    print(
        f"corrections of {len(misspelt):,} real misspellings of corpus words: p50 {statistics.median(timings):.2f} ms,"
        f" p95 {_percentile(timings, 0.95):.2f} ms; a correction offered for {fixed / len(misspelt):.0%}"
    )


if __name__ == "__main__":
    main()

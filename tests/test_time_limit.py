"""A search keeps its time limit on an index of one big segment (issue #15): 100,000 calls, a 10 ms limit.

The calls are stitched from the sample knowledge base's sentences (deterministic), written in one commit
so the index is a single segment, as right after a rebuild. The query is a pasted paragraph of the 32 most
common words, each with two common synonyms (as a synonyms file may give), which scores most of the index
when nothing stops it.
"""

import json
import random
import time
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from engine.service import SearchService
from index.generations import IndexHome
from index.schema import index_document
from store.records import validate_record

SAMPLE = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"
CALLS = 100_000
LIMIT_MS = 10

pytestmark = pytest.mark.slow


def _calls(count, seed=7):
    rng = random.Random(seed)
    sample = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    sentences = [part.strip() + "." for record in sample for part in record["problem"].split(".") if part.strip()]
    fixes = [part.strip() + "." for record in sample for part in record["resolution"].split(".") if part.strip()]
    for number in range(count):
        record = rng.choice(sample)
        yield {
            "id": f"T-{number:06d}",
            "title": record["title"],
            "problem": " ".join(rng.sample(sentences, 3)),
            "resolution": " ".join(rng.sample(fixes, 2)),
            "product": record["product"],
            "created_at": "2025-01-01T00:00:00Z",
        }


@pytest.fixture(scope="module")
def one_segment_home(tmp_path_factory):
    home = IndexHome(tmp_path_factory.mktemp("limit"))
    folder = home.new_generation()
    index = whoosh_index.open_dir(str(folder))
    writer = index.writer(limitmb=256)
    for raw in _calls(CALLS):
        writer.add_document(**index_document(validate_record(raw), "-"))
    writer.commit()
    home.swap_to(folder)
    return home


def _common_words(home, count=96):
    with home.open_index().searcher() as searcher:
        by_frequency = sorted(searcher.reader().iter_field("words"), key=lambda item: -item[1].doc_frequency())
        return [term.decode() for term, _ in by_frequency[:count]]


def test_a_one_segment_index_of_100k_calls_honours_a_10_ms_limit(one_segment_home):
    searcher = one_segment_home.open_index().searcher()
    assert (searcher.doc_count(), len(searcher.leaf_searchers())) == (CALLS, 1)
    common = _common_words(one_segment_home)
    paragraph = " ".join(common[:32])
    synonyms = {word: [common[32 + n], common[64 + n]] for n, word in enumerate(common[:32])}
    unlimited = SearchService(one_segment_home, None, lambda: synonyms, time_limit_ms=60_000, result_cache_size=0)
    limited = SearchService(one_segment_home, None, lambda: synonyms, time_limit_ms=LIMIT_MS, result_cache_size=0)
    for service in (unlimited, limited):
        service.search("printer")  # the posting lists decoded and cached, as on a warm server
        service.search(paragraph)
    full_ms = _best_of_three(unlimited, paragraph)
    # The best of three, as for the full search: a stall of a busy machine's scheduler is not the limit's doing.
    cut = min((limited.search(paragraph) for _ in range(3)), key=lambda result: result.took_ms)
    assert full_ms > 2 * LIMIT_MS
    assert cut.timed_out is True
    assert cut.total_exact is False
    assert len(cut.hits) == 10
    # What may run past the limit: the document range in progress, the plan of 32 words and the page's hits.
    assert cut.took_ms < LIMIT_MS + full_ms / 2


def _best_of_three(service, text):
    took = []
    for _ in range(3):
        started = time.perf_counter()
        result = service.search(text)
        took.append((time.perf_counter() - started) * 1000)
        assert result.timed_out is False
    return min(took)

"""Search by words counts the word the agent meant as if typed (issue #16): of an unknown word's guesses, the one
``WordPlan.meant`` chose weighs as much as an exact match, and the others keep their lower weights."""

import pytest
from sample_kb import indexed_knowledge_base

from engine.plan import WEIGHTS, index_terms, plan_query
from engine.service import SearchService
from engine.sources import SynonymsFile
from engine.vocabulary import Vocabulary, VocabularyCache

CALLS = [
    {
        "id": "C-PHONE",
        "title": "Phone icon fails on a contact card",
        "problem": "Clicking the icon does nothing.",
        "resolution": "Set the default calling app.",
    },
    {
        "id": "C-ONE",
        "title": "One icon missing from the ribbon",
        "problem": "The ribbon lost a button.",
        "resolution": "Reset the ribbon.",
    },
]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    records = [{**call, "created_at": "2025-01-01T00:00:00+00:00"} for call in CALLS]
    kb = indexed_knowledge_base(tmp_path_factory.mktemp("meant"), records)
    yield SearchService(kb.home, VocabularyCache(), SynonymsFile(), result_cache_size=0)
    kb.close()


def test_the_word_meant_leads_the_guesses_and_weighs_as_much_as_a_typed_word():
    corpus = {"one": 900, "phone": 40, "keeps": 300, "ringing": 20, "hone": 1}
    terms = {term for word in corpus for term in index_terms(word)}
    fone = plan_query("fone keeps ringing", lambda term: term in terms, Vocabulary(corpus)).words[0]
    assert fone.meant == "phone"
    guesses = fone.alternatives[1:]
    assert [(guess.word, guess.how, guess.meant) for guess in guesses[:2]] == [
        ("phone", "sounds-like", True),  # still said to match by sound
        ("one", "typo", False),
    ]
    assert guesses[0].weight == WEIGHTS["exact"]
    assert guesses[1].weight == WEIGHTS["typo"] < WEIGHTS["exact"]


def test_an_english_word_read_as_typed_keeps_every_guess_at_its_lower_weight():
    corpus = {"batch": 300, "jobs": 50}
    terms = {term for word in corpus for term in index_terms(word)}
    beach = plan_query("beach jobs", lambda term: term in terms, Vocabulary(corpus)).words[0]
    assert beach.meant == ""
    assert all(not guess.meant and guess.weight < WEIGHTS["exact"] for guess in beach.alternatives[1:])


def test_the_call_holding_the_word_meant_ranks_above_one_holding_a_commoner_guess(service):
    # "fone": the typo corrector offers "one" (one letter dropped), the sound-alikes "phone" (as sounded, no edit).
    hits = service.search("fone icon").hits
    assert [hit["id"] for hit in hits][:2] == ["C-PHONE", "C-ONE"]

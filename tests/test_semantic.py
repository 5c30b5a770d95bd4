"""Ranking by meaning (issue #16): vectors, replicas, the backlog, and the product without its model.

The tests that need the model use the real one (all-MiniLM-L6-v2 with 8-bit weights, ``engine/data/``) and skip,
saying so, only when its packages are not installed.
"""

import importlib.util
import json
import logging
import sys

import numpy as np
import pytest
from conftest import TEST_DATA, WRITE_KEY, auth, settings_for
from servers import run_cli

from app import create_app
from engine.nearest import closest_rows
from engine.plan import index_terms, plan_query
from engine.semantic import MIN_SIMILARITY, fuse, meant_text
from engine.vocabulary import Vocabulary
from index.vectors import VectorStore, sign_codes
from indexer.context import open_knowledge_base

MODEL_PACKAGES = ("onnxruntime", "tokenizers")
needs_model = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in MODEL_PACKAGES),
    reason="the embedding model's packages (onnxruntime, tokenizers) are not installed: "
    "pip install -r requirements-dev.txt",
)
QUERIES = ("printer wont print", "the screen goes black", "cant get emails on phone", "outlok keeps crashing")
# Shares no word with the call below, so only its meaning can find it.
NEW_CALL = {
    "id": "T-900",
    "title": "Notebook fan roaring under light load",
    "problem": "The notebook's cooling fan spins at full speed and roars even when only a browser is open.",
    "resolution": "Cleaned the vents and updated the BIOS fan curve.",
}
PARAPHRASE = "noisy pc"


def semantic_app(data_folder, **more):
    """An app over ``data_folder`` ranking by meaning, its backlog worked by the test, not a thread."""
    return create_app(settings_for(data_folder, KB_SEMANTIC=True, KB_EMBED_IN_SERVER=False, **more))


def imported(folder, calls_file=TEST_DATA / "calls.json", embed=True):
    """Import a file into a data folder with the real command line, then embed its calls."""
    assert run_cli(folder, "import", calls_file).returncode == 0
    if embed:
        done = run_cli(folder, "embed", KB_SEMANTIC="true")
        assert done.returncode == 0, done.stderr
        return done.stdout
    return ""


def ranked(app, text):
    """``(id, score, similarity or None)`` of each hit, in order."""
    hits = app.extensions["kb"].search.search(text, limit=10).hits
    return [(hit["id"], hit["score"], meaning_of(hit)) for hit in hits]


def meaning_of(hit):
    found = [match["similarity"] for match in hit["matches"] if match["how"] == "meaning"]
    return found[0] if found else None


def vectors_by_digest(folder):
    (model_folder,) = (folder / "index" / "vectors").iterdir()
    count = int((model_folder / "count").read_text())
    vectors = np.fromfile(model_folder / "vectors.f32", np.float32).reshape(count, -1)
    digests = np.fromfile(model_folder / "digests.bin", np.uint8).reshape(count, 32)
    return {digest.tobytes().hex(): vector.tobytes() for digest, vector in zip(digests, vectors)}


# Without the model: the pieces


def test_fusion_ranks_a_call_both_rankings_agree_on_above_either_alone():
    lexical = [(9.0, {"id": "A"}, 1), (8.0, {"id": "B"}, 2)]
    dense = [(0.8, {"id": "C"}, 3), (0.7, {"id": "B"}, 2)]
    hits, similarity = fuse(lexical, dense)
    order = [stored["id"] for _, stored, _ in sorted(hits, key=lambda hit: -hit[0])]
    assert order[0] == "B"
    assert sorted(order) == ["A", "B", "C"]
    assert similarity == {3: 0.8, 2: 0.7}


def test_meant_text_puts_typo_corrections_in(indexed_app):
    service = indexed_app.extensions["kb"].search
    plan = service.plan("outlok keeps asking for pasword", service.opened())
    assert meant_text(plan) == "outlook keeps asking for password"
    assert meant_text(service.plan("printer offline", service.opened())) == "printer offline"


def test_meant_text_takes_the_closest_word_as_sounded_then_the_commonest():
    corpus = {"one": 900, "phone": 40, "keeps": 300, "ringing": 20, "arrive": 200, "archive": 30, "hone": 1}
    vocabulary = Vocabulary(corpus)
    terms = {term for word in corpus for term in index_terms(word)}
    plan = plan_query("fone keeps ringing", lambda term: term in terms, vocabulary)
    assert [alternative.word for alternative in plan.words[0].alternatives if alternative.how == "typo"] == [
        "one",
        "hone",
    ]
    assert plan.words[0].correction == "one"  # "did you mean" stays the typo corrector's
    assert meant_text(plan) == "phone keeps ringing"  # "ph" sounds as "f": no edit as sounded


def test_meant_text_takes_of_equally_close_words_the_one_that_only_adds_letters_to_the_typed_one():
    corpus = {"print": 900, "printer": 40, "jams": 30}
    terms = {term for word in corpus for term in index_terms(word)}
    plan = plan_query("printr jams", lambda term: term in terms, Vocabulary(corpus))
    assert {"print", "printer"} <= {alternative.word for alternative in plan.words[0].alternatives}
    assert meant_text(plan) == "printer jams"  # a dropped letter, though "print" is commoner and as close


def test_meant_text_takes_of_equally_close_words_the_one_that_sounds_as_typed():
    corpus = {"wire": 800, "word": 30, "crashed": 20}
    terms = {term for word in corpus for term in index_terms(word)}
    plan = plan_query("wird crashed", lambda term: term in terms, Vocabulary(corpus))
    assert {"wire", "word"} <= {alternative.word for alternative in plan.words[0].alternatives}
    # One letter from either, neither only adds letters to it; "wird" has word's phonetic codes (Metaphone WRT,
    # Soundex W630), not wire's (WR, W600), though "wire" is commoner.
    assert meant_text(plan) == "word crashed"
    # A slip of the keys is not of the ear: "lits" has the codes of "lots" (LTS, L320), but swapped back it is "list".
    corpus = {"lots": 900, "list": 30, "emails": 20}
    terms = {term for word in corpus for term in index_terms(word)}
    assert meant_text(plan_query("lits emails", lambda term: term in terms, Vocabulary(corpus))) == "list emails"


def _meant(query, corpus):
    """The text the model reads for ``query`` over calls holding ``corpus`` (word: how many calls)."""
    terms = {term for word in corpus for term in index_terms(word)}
    return meant_text(plan_query(query, lambda term: term in terms, Vocabulary(corpus)))


def test_meant_text_takes_a_far_commoner_word_one_edit_further_over_a_rare_non_english_closest_one():
    # "arkive" is one edit from "arxiv" as sounded and two from "archive"; a name in one call is not what was meant.
    assert _meant("online arkive missing", {"arxiv": 1, "archive": 124, "online": 90, "missing": 70}) == (
        "online archive missing"
    )
    # Not far enough commoner, the closest stays; nor does an English word give way, however common the other.
    assert _meant("online arkive missing", {"arxiv": 3, "archive": 124, "online": 90, "missing": 70}) == (
        "online arxiv missing"
    )
    assert _meant("misake in title", {"mistake": 10, "message": 900, "title": 90}) == "mistake in title"


def test_meant_text_reads_an_english_word_no_call_holds_as_typed_unless_a_common_word_is_a_single_edit_away():
    corpus = {"batch": 42, "teams": 169, "squigly": 1, "meeting": 300, "trip": 30, "lines": 80}
    assert _meant("beach trip", corpus) == "beach trip"  # "batch" is two edits away
    assert _meant("squiggle lines", corpus) == "squiggle lines"  # "squigly", one edit away, is in a single call
    # An English word, but likelier a slip for the calls' "teams".
    assert _meant("teems meeting", corpus) == "teams meeting"


def test_meant_text_reads_an_english_word_no_call_holds_as_its_commonest_homophone_that_calls_hold():
    corpus = {"mail": 400, "site": 60, "cite": 5, "team": 90, "meant": 30, "lookup": 20, "which": 500, "reply": 80}
    assert _meant("male meant for someone else", corpus) == "mail meant for someone else"
    assert _meant("team sight lookup", corpus) == "team site lookup"  # "site" and "cite" sound as "sight"
    assert _meant("reply from witch address", corpus) == "reply from which address"
    # A stop word is no such reading: "buy" stays "buy", not "by".
    assert _meant("buy licence", {"licence": 40}) == "buy licence"
    # A homophone in a single call is no reading of the word typed.
    assert _meant("male meant", {"mail": 1, "meant": 30}) == "male meant"


def test_meant_text_weighs_the_stop_words_one_edit_away_with_the_corrections():
    corpus = {"thiss": 1, "these": 300, "file": 500, "locked": 40, "over": 200, "into": 150}
    # No index holds "this", so no correction offers it; "thiss", a misspelling in one call, is as close.
    assert _meant("thhis file locked", corpus) == "this file locked"
    # A correction that only adds letters ("over" for "ovr", not "or") or swaps two back ("into", not "not") wins.
    assert _meant("ovr file locked", corpus) == "over file locked"
    assert _meant("inot file locked", corpus) == "into file locked"
    # "wenn", a word of a few calls as close as sounded, gives way to a stop word one edit further; a code is read
    # as typed.
    corpus["wenn"] = 4
    assert _meant("wen file locked", corpus) == "when file locked"
    assert _meant("th3 file locked", corpus) == "th3 file locked"


def test_meant_text_given_the_vocabulary_puts_the_commoner_spelling_of_a_rare_misspelt_corpus_word_in():
    corpus = {"address": 400, "adress": 3, "book": 90, "missing": 70}
    vocabulary = Vocabulary(corpus)
    terms = {term for word in corpus for term in index_terms(word)}
    plan = plan_query("adress book missing", lambda term: term in terms, vocabulary)
    assert plan.words[0].known and plan.words[0].alternatives[0].word == "adress"  # words still search as typed
    assert meant_text(plan) == "adress book missing"
    assert meant_text(plan, vocabulary) == "address book missing"
    typed_as_acronym = plan_query("ADRESS, book missing", lambda term: term in terms, vocabulary)
    assert meant_text(typed_as_acronym, vocabulary) == "ADRESS, book missing"


def test_meant_text_puts_the_corpus_word_in_for_a_word_known_only_by_its_stem():
    corpus = {"paging": 40, "page": 300, "file": 500, "warning": 60, "small": 90}
    terms = {term for word in corpus for term in index_terms(word)}
    vocabulary = Vocabulary(corpus)
    plan = plan_query("pageing file warning", lambda term: term in terms, vocabulary)
    # "pageing" stems as "paging" does, so search finds it as typed; no call holds the word itself.
    assert plan.words[0].known and plan.words[0].alternatives[0].word == "pageing"
    assert [alternative.word for alternative in plan.words[0].alternatives] == ["pageing"]
    assert meant_text(plan) == "paging file warning"
    # A word the calls hold is the agent's word; an English word no call holds (UK "instal") is left as typed too.
    assert meant_text(plan_query("paging file", lambda term: term in terms, vocabulary)) == "paging file"
    corpus = {"install": 400, "fails": 50}
    terms = {term for word in corpus for term in index_terms(word)}
    assert meant_text(plan_query("instal fails", lambda term: term in terms, Vocabulary(corpus))) == "instal fails"


def test_sound_alikes_equally_close_come_commonest_first():
    # "fite" is no edit from either as sounded ("fight" loses its "gh", "fite" its final "e").
    assert Vocabulary({"fight": 5, "fit": 50}).phonetic.candidates("fite") == ["fit", "fight"]
    assert Vocabulary({"fight": 50, "fit": 5}).phonetic.candidates("fite") == ["fight", "fit"]


def test_vector_store_cuts_rows_a_killed_writer_left_past_the_count(tmp_path):
    store = VectorStore(tmp_path, "model/test==1/128-tokens", 64)
    first = np.eye(2, 64, dtype=np.float32)
    with store.writing():
        assert store.append(["aa" * 32, "bb" * 32], first) == 2
    with open(store.folder / "vectors.f32", "ab") as half_written:
        half_written.write(b"\x00" * 100)
    with store.writing():
        assert store.append(["cc" * 32], np.eye(1, 64, 5, dtype=np.float32)) == 3
    snapshot = store.snapshot()
    assert (snapshot.count, snapshot.row_of("cc" * 32), snapshot.row_of("dd" * 32)) == (3, 2, None)
    assert (store.folder / "vectors.f32").stat().st_size == 3 * 64 * 4
    assert snapshot.vectors[2].tobytes() == np.eye(1, 64, 5, dtype=np.float32).tobytes()


def test_the_sign_bit_shortlist_is_every_row_as_close_as_the_nth_counted_bit_by_bit_as_rows_are_added(tmp_path):
    store = VectorStore(tmp_path, "model/test==1/128-tokens", 128)
    rng = np.random.default_rng(3)
    query = rng.standard_normal(128).astype(np.float32)
    for batch in (5, 1, 40, 300):
        with store.writing():
            vectors = rng.standard_normal((batch, 128)).astype(np.float32)
            store.append([rng.bytes(32).hex() for _ in range(batch)], vectors)
        snapshot = store.snapshot()
        codes = np.fromfile(store.folder / "codes.u64", np.uint64).reshape(-1, 2)
        bits = np.unpackbits(np.ascontiguousarray(codes ^ sign_codes(query[None, :])[0]).view(np.uint8), axis=1)
        differing = bits.sum(axis=1)
        for shortlist in (1, 7, 40, 10_000):
            edge = np.sort(differing)[min(shortlist, len(differing)) - 1]
            expected = np.flatnonzero(differing <= edge).tolist()
            assert closest_rows(snapshot.codes, sign_codes(query[None, :])[0], shortlist).tolist() == expected


def test_the_product_starts_and_answers_by_words_when_the_model_is_missing(
    indexed_app, data_folder, monkeypatch, caplog
):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the model's runtime were not installed
    with caplog.at_level(logging.WARNING):
        app = semantic_app(data_folder)
    client = app.test_client()
    found = client.get("/api/v1/search?q=router+dropping")
    assert found.status_code == 200
    assert found.json["results"][0]["id"] == "T-001"
    assert {match["how"] for hit in found.json["results"] for match in hit["matches"]} <= {"exact", "stem"}
    messages = [record.getMessage() for record in caplog.records]
    assert any("ranking by meaning is off: model minilm-l6-int8 needs" in message for message in messages)
    assert any("search is by words only" in message for message in messages)
    health = client.get("/healthz").json
    assert health["semantic"]["on"] is False
    assert "not installed" in health["semantic"]["reason"]


# With the model


@needs_model
def test_vectors_are_the_same_bytes_whichever_order_the_calls_were_embedded_in(tmp_path):
    calls = json.loads((TEST_DATA / "calls.json").read_text(encoding="utf-8"))
    reversed_file = tmp_path / "reversed.json"
    reversed_file.write_text(json.dumps(calls[::-1]), encoding="utf-8")
    first, second = tmp_path / "a", tmp_path / "b"
    imported(first)
    imported(second, reversed_file)
    assert vectors_by_digest(first) == vectors_by_digest(second)
    assert len(vectors_by_digest(first)) == len(calls)


@needs_model
def test_a_replica_built_from_the_same_store_ranks_the_same_ids_in_the_same_order(tmp_path):
    calls = json.loads((TEST_DATA / "calls.json").read_text(encoding="utf-8"))
    reversed_file = tmp_path / "reversed.json"
    reversed_file.write_text(json.dumps(calls[::-1]), encoding="utf-8")
    first, second = tmp_path / "a", tmp_path / "b"
    imported(first)
    imported(second, reversed_file)
    one, other = semantic_app(first), semantic_app(second)
    for text in (*QUERIES, PARAPHRASE):
        assert ranked(one, text) == ranked(other, text)
    assert any(similarity is not None for _, _, similarity in ranked(one, "the screen goes black"))


@needs_model
def test_a_call_written_during_a_backlog_is_found_by_words_at_once_and_by_meaning_once_embedded(data_folder):
    imported(data_folder)
    app = semantic_app(data_folder)
    client = app.test_client()
    assert client.post("/api/v1/calls", json=NEW_CALL, headers=auth(WRITE_KEY)).status_code in (200, 201)
    assert client.get("/healthz").json["semantic"]["backlog"] == 1
    by_words = client.get("/api/v1/search?q=notebook+fan+roaring").json["results"]
    assert by_words[0]["id"] == "T-900"
    assert meaning_of(by_words[0]) is None
    assert "T-900" not in [call_id for call_id, _, _ in ranked(app, PARAPHRASE)]
    assert embed_backlog(app) == 1
    assert client.get("/healthz").json["semantic"]["backlog"] == 0
    by_meaning = {call_id: similarity for call_id, _, similarity in ranked(app, PARAPHRASE)}
    assert by_meaning["T-900"] >= MIN_SIMILARITY


def embed_backlog(app):
    """Work the backlog as the server's thread does (its lock, one batch)."""
    from app.embed_worker import EmbedWorker

    worker = EmbedWorker(app.extensions["kb"].search, interval=1.0)
    with app.extensions["kb"].search.semantic.store().writing():
        return worker.work_once()


@needs_model
def test_check_reports_the_backlog_and_embed_works_it_off(data_folder):
    imported(data_folder, embed=False)
    before = run_cli(data_folder, "check", KB_SEMANTIC="true")
    assert "meaning: 0 of 40 passages embedded, backlog 40" in before.stdout
    assert before.returncode == 0
    done = run_cli(data_folder, "embed", KB_SEMANTIC="true")
    assert done.stdout.startswith("embedded 40 passages in ")
    after = run_cli(data_folder, "check", KB_SEMANTIC="true")
    assert "meaning: 40 of 40 passages embedded, backlog 0" in after.stdout


def test_check_says_ranking_by_meaning_is_off_when_turned_off(data_folder):
    imported(data_folder, embed=False)
    assert "meaning: off (KB_SEMANTIC=false)" in run_cli(data_folder, "check").stdout


def test_a_knowledge_base_opens_without_the_model_settings(data_folder):
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(data_folder), "KB_DATABASE_URL": ""}, environ={})
    assert (kb.settings["KB_SEMANTIC"], kb.settings["KB_EMBEDDING_MODEL"]) == (True, "minilm-l6-int8")
    kb.close()

"""The homophone list (``analyzers/data/homophones.tsv``, from the CMU Pronouncing Dictionary): common English
words that sound exactly alike, each way round, and nothing for a rare spelling or a name."""

import pytest

from analyzers import homophones as homophone_list
from analyzers.homophones import HomophoneListError, homophone_table, homophones


@pytest.mark.parametrize(
    ("word", "sounding_alike"),
    [("male", "mail"), ("mail", "male"), ("sight", "site"), ("witch", "which"), ("fined", "find"), ("red", "read")],
)
def test_common_words_that_sound_alike_are_homophones_both_ways(word, sounding_alike):
    assert sounding_alike in homophones(word)


@pytest.mark.parametrize("word", ["weill", "reade", "router", "outlook", ""])
def test_a_name_a_rare_spelling_or_a_word_alone_in_its_sound_has_none(word):
    assert homophones(word) == ()


def test_no_word_is_its_own_homophone_and_every_pair_is_listed_both_ways():
    table = homophone_table()
    assert len(table) > 800
    for word, others in table.items():
        assert word not in others
        for other in others:
            assert word in table[other]


def test_a_malformed_list_names_its_line(tmp_path, monkeypatch):
    broken = tmp_path / "homophones.tsv"
    broken.write_text("# comment\nword\thomophone\nmale\tmail\nsight site\n", encoding="utf-8")
    monkeypatch.setattr(homophone_list, "DATA_PATH", broken)
    homophone_table.cache_clear()
    try:
        with pytest.raises(HomophoneListError, match="line 4"):
            homophone_table()
    finally:
        homophone_table.cache_clear()


def test_a_missing_list_names_the_script_that_builds_it(tmp_path, monkeypatch):
    monkeypatch.setattr(homophone_list, "DATA_PATH", tmp_path / "homophones.tsv")
    homophone_table.cache_clear()
    try:
        with pytest.raises(HomophoneListError, match="run tools/build_homophones.py"):
            homophone_table()
    finally:
        homophone_table.cache_clear()

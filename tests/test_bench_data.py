"""The benchmarks and tools find their data with --data, run without it where they can, and otherwise say
plainly what is missing and where to get it (exit 2, no traceback)."""

import importlib.util
import json
from pathlib import Path

import pytest
from bench_data import write_mini_data
from conftest import REAL_DATA, needs_real_data

from bench import analyzers, corpora, data, feedback, perturb, relevance, synthetic

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_TITLES = {
    json.loads(line)["title"] for line in (ROOT / "sample" / "calls.jsonl").read_text(encoding="utf-8").splitlines()
}


def build_uk_us_list():
    """tools/build_uk_us_list.py, which is run as a script, as a module."""
    spec = importlib.util.spec_from_file_location("build_uk_us_list", ROOT / "tools" / "build_uk_us_list.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_data_beside(tmp_path, monkeypatch):
    """A clone with no ../shared/data beside it: the default data folder does not exist."""
    missing = tmp_path / "shared" / "data"
    monkeypatch.setattr(data, "DEFAULT_DATA", missing)
    return missing


def test_missing_message_names_every_data_set_with_its_source_and_licence():
    message = data.missing_message(None, data.CALL_FILES + data.QUERY_FILES + data.WORD_LIST_FILES)
    lines = message.splitlines()
    assert lines[0] == f"no data folder: give one with --data DIR ({data.DEFAULT_DATA} does not exist)."
    assert lines[1] == "It needs these public data sets (docs/data.md gives each file's format):"
    assert [line.split("/")[0].strip() for line in lines[2:]] == list(data.DATA_SETS)
    assert "StackFAQ (Karan & Šnajder 2018)" in lines[2]
    assert lines[4].endswith("github.com/MicrosoftDocs/OfficeDocs-Support; CC BY 4.0")
    assert lines[5].endswith("codespell_lib/data/dictionary.txt; CC BY-SA 3.0")


def test_missing_message_is_empty_when_every_file_is_there(tmp_path):
    mini = write_mini_data(tmp_path)
    assert data.missing_message(mini, data.CALL_FILES + data.QUERY_FILES + data.WORD_LIST_FILES) == ""


@pytest.mark.parametrize(
    ("main", "argv", "prog"),
    [
        (relevance.main, [], "python -m bench.relevance"),
        (feedback.main, [], "python -m bench.feedback"),
        (analyzers.main, [], "python -m bench.analyzers"),
        (corpora.main, ["calls.jsonl"], "python -m bench.corpora"),
        (lambda argv: build_uk_us_list().main(argv), [], "python tools/build_uk_us_list.py"),
    ],
    ids=["relevance", "feedback", "analyzers", "corpora", "build_uk_us_list"],
)
def test_program_without_a_data_folder_exits_2_saying_what_is_missing(main, argv, prog, no_data_beside, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith(f"{prog}: no data folder: give one with --data DIR ({no_data_beside} does not exist).\n")
    assert "docs/data.md" in error
    assert "Traceback" not in error


def test_data_given_but_incomplete_names_the_missing_files(tmp_path, capsys):
    mini = write_mini_data(tmp_path / "data")
    (mini / "us_uk_spelling" / "varcon_us_uk_pairs.tsv").unlink()
    with pytest.raises(SystemExit) as exited:
        synthetic.main(["10", str(tmp_path / "calls.jsonl"), "--data", str(mini)])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[:3] == [
        f"python -m bench.synthetic: the data folder {mini} lacks us_uk_spelling/varcon_us_uk_pairs.tsv.",
        "It needs these public data sets (docs/data.md gives each file's format):",
        "  us_uk_spelling/  VarCon: US, British, Canadian and Australian spellings; from github.com/en-wl/wordlist, "
        "varcon/varcon.txt (SCOWL, wordlist.aspell.net); VarCon's permissive licence (keep its copyright notice)",
    ]


def test_synthetic_without_a_data_folder_draws_on_the_sample_alone_and_says_so(tmp_path, no_data_beside, capsys):
    out = tmp_path / "calls.jsonl"
    assert synthetic.main(["200", str(out)]) == 0
    assert capsys.readouterr().out == (
        f"wrote 200 calls to {out}; No data folder: calls drawn from sample/calls.jsonl alone, misspellings made by "
        "swapping two letters, British spellings from analyzers/data/uk_to_us.tsv (give --data DIR for the real "
        "corpora's sentences)\n"
    )
    titles = {json.loads(line)["title"] for line in out.read_text(encoding="utf-8").splitlines()}
    # A synthetic title is a sample title, maybe with " - <error code>" added.
    assert {title for title in titles - SAMPLE_TITLES if title.rsplit(" - ", 1)[0] not in SAMPLE_TITLES} == set()


def test_synthetic_queries_without_a_data_folder_are_misspelt_and_british_too():
    records = list(synthetic.generate_calls(300))
    queries = synthetic.agent_queries(records, 200)
    kinds = {kind: sum(k == kind for k, _ in queries) for kind in ("clean", "typo", "british")}
    assert [count > 0 for count in kinds.values()] == [True, True, True]
    assert synthetic.agent_queries(records, 200) == queries


def test_synthetic_calls_draw_on_the_data_folder_when_given(tmp_path):
    mini = write_mini_data(tmp_path)
    assert "Strikethrough with GitHub Markdown" in synthetic.load_pools(mini).titles
    assert "Strikethrough with GitHub Markdown" not in synthetic.load_pools(None).titles


@needs_real_data
def test_synthetic_calls_draw_on_the_real_corpora_beside_the_clone():
    with_real, sample_only = synthetic.load_pools(REAL_DATA), synthetic.load_pools(None)
    assert len(with_real.sentences) > 10 * len(sample_only.sentences)
    assert set(sample_only.call_titles) == set(with_real.call_titles)


@pytest.mark.parametrize(
    ("word", "swaps"),
    [
        ("printer", ("pirnter", "prinetr", "pritner", "prniter")),
        ("wifi", ("wfii",)),
        ("offline", ("offilne", "offlnie", "oflfine")),
    ],
    ids=["inner-letters-only", "short", "double-letter"],
)
def test_swapped_letters_keep_the_first_and_last_letter(word, swaps):
    assert perturb.SwappedLetters()[word] == swaps


@pytest.mark.parametrize(
    "word", ["the", "Printer", "e-mail", "look"], ids=["short", "capital", "hyphen", "only-equal-letters-inside"]
)
def test_swapped_letters_leave_out_words_they_cannot_misspell(word):
    assert (word in perturb.SwappedLetters()) is False


def test_product_us_to_uk_reads_the_products_list_backwards():
    pairs = perturb.load_product_us_to_uk()
    assert [pairs.get(word) for word in ("color", "organize", "license", "program")] == [
        "colour",
        "organise",
        "licence",
        None,
    ]

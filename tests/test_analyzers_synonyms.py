import pytest

from analyzers.synonyms import SynonymsFileError, load_synonyms


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("pw", ["password", "passwd", "passcode"]),
        ("Blue  Screen", ["bsod", "blue screen of death", "stop error"]),
        ("wi-fi", ["wifi", "wireless", "wlan"]),
        ("e-mail", ["email", "mail"]),
        ("laptop", ["notebook"]),
        ("2fa", ["mfa", "two factor", "two-factor", "multi factor", "multi-factor", "two step verification"]),
        ("router", []),
    ],
    ids=["abbreviation", "phrase-spacing-folded", "hyphenated", "email", "pair", "digits", "no-group"],
)
def test_the_bundled_file_groups_these_terms(term, expected):
    assert load_synonyms().get(" ".join(term.split()).lower(), []) == expected


def test_bundled_file_has_about_forty_groups_or_more():
    groups = {tuple(sorted([term, *others])) for term, others in load_synonyms().items()}
    assert len(groups) >= 40


def test_load_reads_comments_blank_lines_and_phrases(tmp_path):
    path = tmp_path / "synonyms.txt"
    path.write_text("# comment\n\n  VPN ,  virtual   private network \n", encoding="utf-8")
    assert load_synonyms(path) == {
        "vpn": ["virtual private network"],
        "virtual private network": ["vpn"],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("vpn\n", "line 1: a group needs at least two different members"),
        ("# ok\nvpn, vpn\n", "line 2: a group needs at least two different members"),
        ("vpn,, tunnel\n", "line 1: empty member"),
        ("a, b\n\nc, <script>\n", "line 3: unexpected characters in '<script>'"),
        ("pw, password\nlogin, pw\n", "line 2: 'pw' is already in the group on line 1"),
    ],
    ids=["single-member", "duplicate-member", "empty-member", "bad-characters", "term-twice"],
)
def test_load_rejects_bad_line_naming_it(tmp_path, content, message):
    path = tmp_path / "synonyms.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SynonymsFileError) as error:
        load_synonyms(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)

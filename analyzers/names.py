"""People's names as heard: tokens, phonetic codes and a guard of their own (issue #18).

Soundex was made for surnames, but a code match alone accepts too much (Smith, Schmidt and Smoot all have
Soundex ``S530``), so :func:`names_sound_alike` wants more, as :func:`analyzers.phonetic.sounds_alike` does for
words, with rules that fit names:

- the same first sound: the same first letter, or the same first Metaphone letter (Katherine/Catherine);
- few edits as spelt or as sounded: 1 for a name of 4 letters or fewer, else 2; ``y`` counts as ``i``
  (Smyth/Smith) and ``Mac`` as ``Mc`` (MacDonald/McDonald);
- a short name keeps its one vowel: Jon/John and Reid/Reed match, Jon/Jan and Tim/Tom do not;
- one name is not the other with a suffix of two letters or more: Richard/Richardson, Smith/Smithers and
  John/Johnson are other names, not other spellings.
"""

import re
import unicodedata

from analyzers.phonetic import metaphone_code, sound_distance, soundex_code

MAX_EDITS = 2
SHORT_NAME = 4
VOWELS = frozenset("aeiou")
# Words of a company's name that tell nothing about which company it is.
ORGANISATION_WORDS = frozenset(
    "the and of ltd limited llp llc plc inc co corp company gmbh ag sa sarl bv group services".split()
)
_LETTERS = re.compile(r"[a-z]+")
_NAME_REWRITES = ((re.compile(r"^mac(?=[a-z]{3})"), "mc"), (re.compile(r"y"), "i"))


def name_tokens(text):
    """The words of a name, lowercased, accents and apostrophes dropped.

    :param text: a name as written or typed, e.g. ``"Seán O'Brien-Smyth"``.
    :returns: e.g. ``["sean", "obrien", "smyth"]``.
    """
    folded = unicodedata.normalize("NFKD", text or "")
    plain = "".join(char for char in folded if not unicodedata.combining(char)).lower().replace("'", "")
    plain = plain.replace("\u2019", "")
    return _LETTERS.findall(plain)


def organisation_tokens(text):
    """The words of an organisation's name that tell it apart (``Ltd``, ``Inc``, ``the`` left out).

    :param text: e.g. ``"Harbour Dental Ltd"``.
    :returns: e.g. ``["harbour", "dental"]``.
    """
    return [token for token in name_tokens(text) if token not in ORGANISATION_WORDS]


def name_codes(token):
    """The phonetic codes a name token is found by.

    :param token: one token of :func:`name_tokens`, e.g. ``"smyth"``.
    :returns: ``(metaphone, soundex)``, e.g. ``("SM0", "S530")``; empty strings for a single letter.
    """
    if len(token) < 2:
        return "", ""
    return metaphone_code(token), soundex_code(token)


def name_form(token):
    """A token with the spellings that names write either way made one: ``mac`` → ``mc``, ``y`` → ``i``.

    :param token: e.g. ``"macdonald"``.
    :returns: e.g. ``"mcdonald"``; ``"smyth"`` gives ``"smith"``.
    """
    for pattern, replacement in _NAME_REWRITES:
        token = pattern.sub(replacement, token)
    return token


def _lone_vowel_swapped(one, other):
    """True when two words differ only in one vowel standing alone (jon/jan), not in a vowel pair (reid/reed)."""
    if len(one) != len(other):
        return False
    differ = [i for i, (a, b) in enumerate(zip(one, other)) if a != b]
    if len(differ) != 1 or one[differ[0]] not in VOWELS or other[differ[0]] not in VOWELS:
        return False
    at = differ[0]
    neighbours = {one[i] for i in (at - 1, at + 1) if 0 <= i < len(one)}
    return not neighbours & VOWELS


def _suffixed(one, other):
    shorter, longer = sorted((one, other), key=len)
    return longer.startswith(shorter) and len(longer) - len(shorter) >= 2


def names_sound_alike(heard, name):
    """Tell whether a name token is a plausible spelling of a token heard on the phone.

    :param heard: a token as typed, e.g. ``"smyth"``.
    :param name: a token of a customer's name, e.g. ``"smith"`` (yes) or ``"smart"`` (no).
    :returns: True when the two differ as written and pass the rules of the module docstring (two spellings of
        one form, such as ``macdonald`` and ``mcdonald``, always do).
    """
    if heard == name or min(len(heard), len(name)) < 2 or not (heard.isalpha() and name.isalpha()):
        return False
    heard, name = name_form(heard), name_form(name)
    if heard == name:
        return True
    if heard[0] != name[0]:
        heard_code, name_code = metaphone_code(heard), metaphone_code(name)
        if not heard_code or not name_code or heard_code[0] != name_code[0]:
            return False
    if _suffixed(heard, name):
        return False
    short = min(len(heard), len(name)) <= SHORT_NAME
    if short and _lone_vowel_swapped(heard, name):
        return False
    return sound_distance(heard, name) <= (1 if short else MAX_EDITS)


def name_distance(heard, name):
    """How far a heard token is from a name token: 0 when the same (``Mac``/``Mc`` and ``y``/``i`` aside).

    :returns: the edits between the two as :func:`analyzers.phonetic.sound_distance` counts them.
    """
    return sound_distance(name_form(heard), name_form(name))

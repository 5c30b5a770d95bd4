"""Finding the caller from whatever they give (issue #18): account number, phone, e-mail or a name as heard.

The store finds candidates by key (``store.customers``); this module reads the typed text every way that fits,
guards sound-alike names (``analyzers.names``) and ranks: exact matches first (account, then phone, then
e-mail, then the name as written), then names that sound alike, closest first. Each result says how it matched.
"""

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from analyzers.names import name_codes, name_distance, name_tokens, names_sound_alike
from store.contacts import (
    NotAPhoneNumberError,
    display_phone,
    looks_like_email,
    looks_like_phone,
    normalise_email,
    normalise_phone,
)

HOW = ("account", "phone", "email", "name", "sounds-like")
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
# Words of a name heard that are looked up (more are ignored), and candidates read per lookup.
MAX_NAME_WORDS = 4
CANDIDATES = 500
FIELD_ORDER = {"name": 0, "organisation": 1}


@dataclass(frozen=True)
class CallerMatch:
    """One customer found: how, what of theirs matched, and how it ranks (lower first)."""

    customer_id: str
    how: str
    matched: str
    rank: tuple


@lru_cache(maxsize=65_536)
def _alike(heard, token):
    """``(matches, distance)`` of a heard word and a name's word, cached: common names recur in every lookup."""
    if heard == token:
        return True, 0
    if names_sound_alike(heard, token):
        return True, max(1, name_distance(heard, token))
    return False, 0


def _heard_keys(token):
    metaphone, soundex = name_codes(token)
    return [
        key for key in ("n:" + token, "m:" + metaphone if metaphone else "", "s:" + soundex if soundex else "") if key
    ]


def _assign(heard, tokens):
    """Match each heard word to a different word of the name, closest first.

    :returns: ``(exact, total distance)``, or None when a heard word matches none.
    """
    free, exact, total = set(tokens), True, 0
    for word in sorted(heard, key=lambda w: min((_alike(w, t)[1] for t in free if _alike(w, t)[0]), default=99)):
        options = sorted((_alike(word, token)[1], token) for token in free if _alike(word, token)[0])
        if not options:
            return None
        distance, token = options[0]
        free.discard(token)
        exact = exact and distance == 0
        total += distance
    return exact, total


def name_matches(store, text, enough=DEFAULT_LIMIT):
    """Customers whose name or organisation holds every word heard, as written or sounding alike.

    :param store: a store with the ``store.customers`` methods.
    :param text: the name as typed, e.g. ``"jon smyth"``.
    :param enough: when this many customers have the name as written, sound-alikes are not looked for (they
        would rank below every one of them).
    :returns: a list of :class:`CallerMatch` (how ``name`` or ``sounds-like``), unranked.
    """
    heard = list(dict.fromkeys(token for token in name_tokens(text) if len(token) >= 2))[:MAX_NAME_WORDS]
    if not heard:
        return []
    groups = [_heard_keys(token) for token in heard]
    ids = set(store.customers_with_every([["n:" + token] for token in heard], CANDIDATES))
    if len(ids) < enough:
        ids.update(store.customers_with_every(groups, CANDIDATES))
    words = defaultdict(set)
    for row in store.key_rows_of(ids, [key for group in groups for key in group]):
        words[(row["customer_id"], row["field"])].add(row["token"])
    best = {}
    for (customer_id, field), tokens in words.items():
        assigned = _assign(heard, tokens)
        if assigned is None:
            continue
        exact, distance = assigned
        rank = (HOW.index("name" if exact else "sounds-like"), distance, FIELD_ORDER[field])
        if customer_id not in best or rank < best[customer_id][0]:
            best[customer_id] = (rank, field)
    return [CallerMatch(customer_id, HOW[rank[0]], field, rank) for customer_id, (rank, field) in best.items()]


def find_callers(store, text, region, limit=DEFAULT_LIMIT):
    """Customers for what the caller gave, best first.

    :param store: a store with the ``store.customers`` methods.
    :param text: an account number, a phone number in any common format, an e-mail address or a name as heard.
    :param region: ``KB_PHONE_REGION``, to read a number without its country code.
    :param limit: how many results (1–50).
    :returns: a list of ``{"how", "matched", "customer"}``; ``how`` is one of :data:`HOW`.
    """
    text = (text or "").strip()
    found = [
        CallerMatch(row["customer_id"], "account", row["token"], (0,)) for row in _exact(store, "a:" + text.lower())
    ]
    if looks_like_phone(text):
        try:
            phone = normalise_phone(text, region)
        except NotAPhoneNumberError:
            phone = ""
        if phone:
            found += [
                CallerMatch(r["customer_id"], "phone", display_phone(phone), (1,)) for r in _exact(store, "p:" + phone)
            ]
    elif looks_like_email(text):
        email = normalise_email(text)
        found += [CallerMatch(r["customer_id"], "email", email, (2,)) for r in _exact(store, "e:" + email)]
    elif not any(char.isdigit() for char in text):  # names hold no digits: ACC-1001 is looked up as an account
        found += name_matches(store, text, limit)
    best = {}
    for match in found:
        if match.customer_id not in best or match.rank < best[match.customer_id].rank:
            best[match.customer_id] = match
    records = store.get_customers(best)
    ordered = sorted(
        (match for match in best.values() if match.customer_id in records),
        key=lambda m: (m.rank, _display_name(records[m.customer_id]).lower(), m.customer_id),
    )
    return [
        {
            "how": match.how,
            "matched": _matched(match, records[match.customer_id]),
            "customer": records[match.customer_id],
        }
        for match in ordered[:limit]
    ]


def _exact(store, key):
    return store.customer_key_rows([key])


def _matched(match, record):
    """What of the customer's matched: their account, number, address, or name (organisation) as written."""
    if match.how in ("name", "sounds-like"):
        return record[match.matched]
    return match.matched if match.how != "account" else record["id"]


def _display_name(record):
    return record["name"] or record["organisation"]

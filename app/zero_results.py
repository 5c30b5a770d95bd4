"""Closing the zero-result loop: a failed search followed by one that solved it becomes a proposal."""

from datetime import datetime, timedelta

FOLLOW_UP_SECONDS = 60
LOOKBACK = timedelta(minutes=10)


def _parse(at):
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def propose_from_solved(store, session, search_id, now):
    """Propose "failed query → query that solved it" when the search just before this one found nothing.

    :param store: the store (its search log and proposals).
    :param session: the anonymous browser session that searched.
    :param search_id: the logged search whose hit solved the problem.
    :param now: the current time (aware datetime).
    :returns: the (from, to) pair proposed, or None.
    """
    if not session or not search_id:
        return None
    since = (now - LOOKBACK).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    searches = store.searches_of_session(session, since)
    position = next((i for i, row in enumerate(searches) if row["search_id"] == search_id), None)
    if not position:
        return None
    failed, solved = searches[position - 1], searches[position]
    gap = (_parse(solved["at"]) - _parse(failed["at"])).total_seconds()
    pair = (failed["query"].strip().lower(), solved["query"].strip().lower())
    if failed["results"] != 0 or solved["results"] == 0 or gap > FOLLOW_UP_SECONDS or pair[0] == pair[1]:
        return None
    store.propose_synonym(pair[0], pair[1], now.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    return pair

"""What a search returns, and the error a request that breaks a rule raises."""

from dataclasses import dataclass, field

# Past a hundred the exact number of matches helps nobody on a call.
COUNT_UP_TO = 100


class InvalidSearchError(ValueError):
    """A search request breaks a rule; ``field`` names the parameter."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclass
class SearchResult:
    """What one search returns (``postings_scored`` of ``postings_total``: how much of its terms' posting lists
    its passes scored, for the benchmarks; not part of the API's answer)."""

    query: str
    total: int
    took_ms: float
    hits: list
    did_you_mean: dict = None
    facets: dict = field(default_factory=dict)
    timed_out: bool = False
    widened: bool = False
    total_exact: bool = True
    postings_scored: int = 0
    postings_total: int = 0


def reported_total(found, timed_out, up_to=COUNT_UP_TO):
    """How many matches a result reports: exact below ``up_to``, else ``up_to`` and not exact.

    :param found: the number of matching calls the passes found.
    :param timed_out: whether a pass was cut short (then the number is never exact).
    :returns: ``(total, total_exact)``.
    """
    if timed_out:
        return min(found, up_to), False
    return (found, True) if found < up_to else (up_to, False)

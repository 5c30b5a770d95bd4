"""Delivering the outbox: POST each due message, at least once, with retries and exponential back-off.

Independent of what a message says: it takes the rows ``store.outbox`` keeps (kind, URL, JSON payload,
idempotency key) and knows nothing of escalations. Each message is POSTed with its idempotency key in the
body and in an ``Idempotency-Key`` header; a 2xx answer delivers it. Anything else (a 3xx: redirects are
never followed, whatever they point at; a 4xx or 5xx; a refused connection; a timeout) is a failed attempt,
recorded with its reason, and the next one waits ``retry_s`` × 2^(attempts − 1), at most an hour, until
``max_attempts`` have failed. Every attempt is logged in the store (``outbox_attempts``: when, the HTTP status or
the reason there was none, how long it took). The server's delivery thread, ``python -m indexer deliver`` and
``apply-rules`` all call :func:`deliver_due`; a claim with a lease keeps two of them from sending one message at once.
"""

import http.client
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from notify.urls import WebhookUrlError, check_webhook_url, origin_of

log = logging.getLogger(__name__)
MAX_DELAY_S = 3600
USER_AGENT = "support-kb-search (outbox)"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How patiently messages are delivered (settings ``KB_OUTBOX_*`` and ``KB_WEBHOOK_TIMEOUT_S``)."""

    retry_s: float = 30.0
    max_attempts: int = 10
    timeout_s: float = 5.0

    @classmethod
    def from_settings(cls, settings):
        """The policy the settings give."""
        return cls(
            retry_s=float(settings["KB_OUTBOX_RETRY_S"]),
            max_attempts=int(settings["KB_OUTBOX_MAX_ATTEMPTS"]),
            timeout_s=float(settings["KB_WEBHOOK_TIMEOUT_S"]),
        )

    def delay_after(self, attempts):
        """Seconds to wait after the ``attempts``-th failed attempt."""
        return min(MAX_DELAY_S, self.retry_s * 2 ** max(0, attempts - 1))


@dataclass
class DeliveryReport:
    """What one pass delivered and what failed (``(id, reason)`` pairs)."""

    delivered: list = field(default_factory=list)
    failed: list = field(default_factory=list)


class DeliveryError(Exception):
    """One attempt failed; the message says why, without the URL's path; ``status`` is the HTTP answer, if any."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def _clock():
    return datetime.now(timezone.utc)


def _iso(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Only HTTP and HTTPS, and no redirect handler: a 3xx reaches the error handler and is a failed attempt.
_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.ProxyHandler(),
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
):
    _OPENER.add_handler(_handler)


def post(url, body, idempotency_key, timeout_s):
    """POST one JSON body; return the HTTP status when the receiver answered 2xx.

    :raises DeliveryError: for any other answer, a redirect included, or no answer.
    """
    try:
        check_webhook_url(url)
    except WebhookUrlError as error:
        raise DeliveryError(f"the URL {error}") from None
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key, "User-Agent": USER_AGENT},
    )
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        moved = " (redirects are not followed)" if 300 <= error.code < 400 else ""
        raise DeliveryError(f"{origin_of(url)} answered {error.code} {error.reason}{moved}", error.code) from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"{origin_of(url)} could not be reached: {reason}") from None


def deliver_due(store, policy, now=None, limit=20):
    """Claim the due messages and POST each once; record every outcome in the store.

    :param store: a store with the outbox (``store.outbox.OutboxStore``).
    :param policy: a :class:`DeliveryPolicy`.
    :param now: the time of this pass (default: now); tests move it on instead of sleeping.
    :param limit: at most this many messages in this pass.
    :returns: a :class:`DeliveryReport`.
    """
    now = now or datetime.now(timezone.utc)
    # The claim lasts while the whole batch could take, each POST to its timeout; then others may take over.
    lease = now + timedelta(seconds=limit * policy.timeout_s + 30)
    report = DeliveryReport()
    for row in store.claim_due(_iso(now), _iso(lease), policy.max_attempts, limit):
        started = time.monotonic()
        try:
            status = post(row["url"], row["payload"], row["id"], policy.timeout_s)
        except DeliveryError as error:
            took_ms = round((time.monotonic() - started) * 1000, 1)
            attempts = row["attempts"] + 1
            retry_at = now + timedelta(seconds=policy.delay_after(attempts))
            store.mark_failed(row["id"], str(error), _iso(retry_at), _iso(_clock()), error.status, took_ms)
            final = attempts >= policy.max_attempts
            log.warning(
                "%s notification %s: attempt %d failed: %s%s",
                row["kind"],
                row["id"],
                attempts,
                error,
                "; giving up" if final else f"; next attempt at {_iso(retry_at)}",
            )
            report.failed.append((row["id"], str(error)))
            continue
        took_ms = round((time.monotonic() - started) * 1000, 1)
        store.mark_delivered(row["id"], _iso(_clock()), status, took_ms)
        report.delivered.append(row["id"])
    return report


def deliver_all_due(store, policy, now=None, batch=20):
    """Deliver every message due now, a batch at a time, each tried once (for the command line).

    :returns: a :class:`DeliveryReport` of all batches.
    """
    total = DeliveryReport()
    while True:
        report = deliver_due(store, policy, now, limit=batch)
        total.delivered += report.delivered
        total.failed += report.failed
        if len(report.delivered) + len(report.failed) < batch:
            return total

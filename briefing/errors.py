"""One exception root for the project, and the one place errors are classified.

Every error the library raises on purpose derives from :class:`BriefingError`
and, where it resembles one, from the stdlib type a caller would expect
(``ValueError``, ``OSError``, ``TimeoutError`` ...), so ``except ValueError``
keeps working for callers that do not know our types.

:func:`classify` maps any exception to the *action* it triggers; delivery,
ingest and the service loop all ask it instead of catching types themselves.
"""

from __future__ import annotations

import enum


class BriefingError(Exception):
    """Root of every error raised by briefing on purpose."""


class ConfigError(BriefingError, ValueError):
    """The configuration file or a template is invalid; raised at start-up."""


class StoreError(BriefingError, RuntimeError):
    """The database is unreachable or its schema cannot be upgraded."""


class StoreBusy(StoreError):
    """The database is locked or briefly unreachable (SQLite "database is locked", a dropped
    PostgreSQL connection): the transaction was rolled back and trying later will work (issue 8)."""


class StoreConflict(StoreError):
    """A write broke a uniqueness rule (the row exists, another process got there first); the
    transaction was rolled back. Store methods that expect it answer False or None instead."""


class FetchError(BriefingError, OSError):
    """A source could not be fetched. ``retryable`` says whether trying later may help."""

    retryable = True


class FetchTimeout(FetchError, TimeoutError):
    """The remote end did not answer within the configured time limit."""


class HTTPStatusError(FetchError):
    """The server answered with an HTTP error status."""

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        # 4xx other than 408/429 will not fix themselves; 5xx and 429 may.
        self.retryable = status >= 500 or status in (408, 429)


class TooLargeError(FetchError):
    """A response or file is larger than the configured byte cap."""

    retryable = False


class BlockedURLError(FetchError, PermissionError):
    """A URL was refused by the SSRF policy (scheme, private address, redirect limit)."""

    retryable = False


class TooManyRedirects(BlockedURLError):
    """A fetch was redirected more often than ``ingest.max_redirects`` allows."""


class ParseError(BriefingError, ValueError):
    """A feed, page or file could not be parsed into articles."""


class EmptyContentError(ParseError):
    """A page or file held no article text after extraction."""


class SummariseError(BriefingError, RuntimeError):
    """An engine failed to produce a brief."""


class ModelUnavailableError(SummariseError):
    """The configured model cannot be found or loaded."""


class SummariserRejected(SummariseError):
    """The summariser server refused a request with a 4xx that retrying will not fix (bad model
    name, bad key, a prompt over its context): this brief stays extractive, flagged."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SummariserUnavailable(SummariseError, ConnectionError):
    """The summariser server did not answer (refused, timed out, 429 or 5xx) after its retries:
    the brief stays extractive, flagged; later briefs may get a gist again."""


class DeliveryError(BriefingError, OSError):
    """A message could not be delivered. Subclasses say what to do about it."""


class RecipientGone(DeliveryError):
    """The recipient blocked us or no longer exists: deactivate, do not retry."""


class RateLimited(DeliveryError):
    """The channel asked us to slow down; ``retry_after`` seconds to wait."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MarkupRejected(DeliveryError):
    """The channel rejected the message formatting: resend as plain text."""


class PermanentDeliveryError(DeliveryError):
    """The channel refused the message for good (e.g. SMTP 5xx for an address)."""


class Action(enum.Enum):
    """What the caller should do about an error."""

    RETRY_LATER = "retry_later"
    SKIP_AND_RECORD = "skip_and_record"
    DEACTIVATE_RECIPIENT = "deactivate_recipient"
    RESEND_PLAIN = "resend_plain"
    FAIL = "fail"


def classify(exc: BaseException) -> Action:
    """Map an exception to the action it triggers. The one place this is decided."""
    if isinstance(exc, RecipientGone):
        return Action.DEACTIVATE_RECIPIENT
    if isinstance(exc, MarkupRejected):
        return Action.RESEND_PLAIN
    if isinstance(exc, PermanentDeliveryError):
        return Action.SKIP_AND_RECORD
    if isinstance(exc, (RateLimited, DeliveryError, StoreBusy)):
        return Action.RETRY_LATER
    if isinstance(exc, FetchError):
        return Action.RETRY_LATER if exc.retryable else Action.SKIP_AND_RECORD
    if isinstance(exc, SummariserUnavailable):
        return Action.RETRY_LATER
    if isinstance(exc, (ParseError, SummariseError)):
        return Action.SKIP_AND_RECORD
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return Action.RETRY_LATER
    return Action.FAIL

"""The root of Potok's errors and the few kinds every area's errors belong to.

Errors carry a stable kebab-case ``code``, a fixed ``title`` and typed context from
which a human ``detail`` is built. They know nothing of HTTP: the API maps kinds to
status codes in one table, the CLI maps them to exit codes in one function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


class PotokError(Exception):
    """Something Potok refuses to do, said in words an operator understands."""

    code: ClassVar[str] = "potok-error"
    title: ClassVar[str] = "Potok could not do this"
    template: ClassVar[str] = ""

    def __init__(self, detail: str | None = None, **context: Any) -> None:
        self.context: dict[str, Any] = context
        self._detail = detail
        super().__init__(self.detail)

    @property
    def explicit_detail(self) -> bool:
        """Whether the detail was written for this instance rather than built from a template."""
        return self._detail is not None

    @property
    def detail(self) -> str:
        """The human explanation: the explicit one, else the template filled from context."""
        if self._detail is not None:
            return self._detail
        if self.template:
            try:
                return self.template.format(**self.context)
            except (KeyError, IndexError):
                return self.title
        return self.title


class NotFound(PotokError):
    """The thing asked for does not exist."""

    code = "not-found"
    title = "Not found"


class Conflict(PotokError):
    """The request clashes with the current state (a forbidden transition, a reused key)."""

    code = "conflict"
    title = "Conflict with the current state"


class StaleVersion(PotokError):
    """The caller's idea of the version (If-Match) no longer holds."""

    code = "stale-version"
    title = "The resource has changed since you read it"
    template = "You sent version {expected}, the current version is {actual}; reload and retry."


class VersionRequired(PotokError):
    """A change that must name the version it was read at (If-Match) came without one."""

    code = "version-required"
    title = "Send the version you read (If-Match)"
    template = (
        "Send If-Match with the {what}'s ETag (read it with GET first), so a change made "
        "meanwhile is not overwritten."
    )


class Rejected(PotokError):
    """A well-formed request that a business rule refuses."""

    code = "rejected"
    title = "Rejected by a business rule"


class Unauthenticated(PotokError):
    """The caller did not say who it is, or could not prove it."""

    code = "not-authenticated"
    title = "Authentication required"


class Forbidden(PotokError):
    """The caller is known but may not do this."""

    code = "forbidden"
    title = "Not allowed"


class TooManyRequests(PotokError):
    """The caller asks too often; ``retry_after`` says when to come back (seconds)."""

    code = "rate-limited"
    title = "Too many requests"


class Unavailable(PotokError):
    """A dependency (the database, a remote service) cannot be reached right now."""

    code = "unavailable"
    title = "Temporarily unavailable"


class SchemaNotReady(Unavailable):
    """The database has no Potok schema, or an older one than this code needs."""

    code = "schema-not-ready"
    title = "The database schema is not up to date"
    template = "The database has no Potok tables or an old schema; run 'potok db upgrade'."


class TransientConflict(Unavailable):
    """Concurrent work got in the way (a deadlock, a lost race); the same request may be retried."""

    code = "transient-conflict"
    title = "Concurrent changes got in the way; retry the request"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong with one field of the input, and how to fix it."""

    field: str
    message: str
    code: str = "invalid"
    at: int | None = None  # where in the field's text the mistake starts (1-based column)
    end: int | None = None  # and where it ends


class InvalidInput(PotokError):
    """The input cannot be accepted as it is; ``errors`` lists each field to fix."""

    code = "invalid-input"
    title = "The input is not valid"

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        self.errors = list(errors)
        if detail is None:
            detail = "; ".join(f"{e.field}: {e.message}" for e in self.errors) or self.title
        super().__init__(detail)


class IntegrityConflict(Conflict):
    """The database refused a change that would break a rule its rows keep (a reference,
    a uniqueness, a check); ``table`` and ``constraint`` name the rule."""

    code = "integrity-conflict"
    title = "The change breaks a rule the stored data keeps"
    template = "The change to {table} breaks the rule {constraint}."


class StillReferenced(IntegrityConflict):
    """A row cannot go (or change its key) while others refer to it."""

    code = "still-referenced"
    title = "Other records still refer to this one"
    template = (
        "The {entity} is still referred to by {holders}; remove those first, "
        "or deactivate it instead."
    )


class MissingReference(IntegrityConflict):
    """A row refers to another that does not exist (or was removed meanwhile)."""

    code = "missing-reference"
    title = "A record this refers to does not exist"
    template = "The {entity} refers to {refers_to} that does not exist (any more)."


class DuplicateRow(IntegrityConflict):
    """Another row holds the same unique values."""

    code = "duplicate-row"
    title = "Such a record exists already"
    template = "A record of {table} with the same {columns} exists already."


class TextTooLong(Rejected):
    """A text does not fit where it is stored."""

    code = "text-too-long"
    title = "A text is too long to store"
    template = "A text in the request is longer than {where} can hold."


class ValueOutOfRange(Rejected):
    """A number does not fit where it is stored."""

    code = "value-out-of-range"
    title = "A number is too large to store"
    template = "A number in the request is too large to store ({where})."

"""One family of domain errors; the web edge maps them to HTTP statuses in one place."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth saying) about one row/feature of an input.

    ``row`` is 1-based as a desk operator counts rows (the header of a CSV is not a row;
    features count from 1), or None for the whole file.
    """

    row: int | None
    field: str | None
    reason: str
    severity: str = "error"  # "error" blocks; "warning" is reported; "fixed" was repaired
    value: str | None = None

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "reason": self.reason,
                "severity": self.severity, "value": self.value}


class GisdeskError(Exception):
    """Base of every error the product raises on purpose."""

    status = 500

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InputRejected(GisdeskError):
    """Input refused as a whole; nothing was written. ``problems`` names each bad row."""

    status = 422

    def __init__(self, message: str, problems: list[Problem] | None = None, *,
                 field: str | None = None):
        super().__init__(message, field=field)
        self.problems = list(problems or [])


class NotFound(GisdeskError):
    status = 404


class Forbidden(GisdeskError):
    status = 403


class Conflict(GisdeskError):
    status = 409


class ConfigError(GisdeskError):
    """A declaration (layer file, rules file, setting) is wrong; names file and field."""

    status = 500


class DatabaseUnavailable(GisdeskError):
    status = 503


class RateLimited(GisdeskError):
    """Too many failures from one caller in a window (shared by every worker)."""

    status = 429


class Busy(GisdeskError):
    """Too much of one kind of work is running (e.g. parallel uploads); try again shortly."""

    status = 429

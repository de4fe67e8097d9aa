"""Who did something, said as people read it: a user's full name, not a login or "cli:root".

Writes record the actor as a user name (web, API token) or ``cli:<os user>`` (the command
line); pages show the person's name, with the login beside it so it stays traceable.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

SYSTEM_ACTORS = {"demo": "data demo", "system": "sistem", "worker": "sistem (analisis)"}


def author_labels(conn: Connection, actors: Iterable[str | None]) -> dict[str, str]:
    """actor -> words for a page, looked up in one query."""
    wanted = sorted({a for a in actors if a})
    names = dict(conn.execute(text(
        "SELECT username, full_name FROM users WHERE username = ANY(:u) "
        "AND full_name IS NOT NULL AND full_name <> ''"), {"u": wanted}).all()) if wanted else {}
    return {a: author_label(a, names) for a in wanted}


def author_label(actor: str | None, names: dict[str, str] | None = None) -> str:
    if not actor:
        return ""
    if actor.startswith("cli:"):
        return f"baris perintah ({actor[4:]})"
    if names and actor in names:
        return f"{names[actor]} ({actor})"
    return SYSTEM_ACTORS.get(actor, actor)

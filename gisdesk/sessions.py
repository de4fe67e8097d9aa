"""Login sessions kept in the database (no Flask here), so every worker process agrees.

The signed session cookie carries only a random session id; the ``user_session`` row (keyed
by the id's SHA-256) says whether the session is alive. A session ends by logout, by a
password change or by disabling its user, after ``idle`` without a request, and ``absolute``
after login whatever happens (an election-day shift). Loading a session is one query;
``last_seen_at`` is written at most once a minute per session, so reads stay reads.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, text

# how stale last_seen_at may get before a request refreshes it (idle lifetimes are minutes)
TOUCH_EVERY_S = 60


@dataclass(frozen=True)
class Lifetimes:
    idle_s: int
    absolute_s: int


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def open_session(conn: Connection, user_id: int, addr: str | None) -> str:
    """A new session for ``user_id``; returns the id to put in the signed cookie."""
    sid = secrets.token_urlsafe(32)
    conn.execute(text("INSERT INTO user_session (user_id, sid_sha256, addr) "
                      "VALUES (:u, :h, :a)"), {"u": user_id, "h": _digest(sid), "a": addr})
    return sid


def load(conn: Connection, sid: str | None, user_id: int, life: Lifetimes) -> dict | None:
    """The active user of a live session ``sid`` belonging to ``user_id``, else None."""
    if not sid:
        return None
    row = conn.execute(text("""
        SELECT s.id AS session_id, s.last_seen_at < now() - make_interval(secs => :touch)
               AS session_stale, u.*
        FROM user_session s JOIN users u ON u.id = s.user_id
        WHERE s.sid_sha256 = :h AND s.user_id = :u AND s.ended_at IS NULL AND u.active
          AND s.last_seen_at > now() - make_interval(secs => :idle)
          AND s.created_at > now() - make_interval(secs => :absolute)"""),
        {"h": _digest(sid), "u": user_id, "touch": TOUCH_EVERY_S, "idle": life.idle_s,
         "absolute": life.absolute_s}).mappings().first()
    if row is None:
        return None
    if row["session_stale"]:
        conn.execute(text("UPDATE user_session SET last_seen_at = now() WHERE id = :i"),
                     {"i": row["session_id"]})
    return {k: v for k, v in row.items() if k not in ("session_id", "session_stale")}


def end(conn: Connection, sid: str | None, reason: str = "logout") -> None:
    if sid:
        conn.execute(text("UPDATE user_session SET ended_at = now(), ended_reason = :r "
                          "WHERE sid_sha256 = :h AND ended_at IS NULL"),
                     {"h": _digest(sid), "r": reason})


def end_all(conn: Connection, user_id: int, reason: str) -> int:
    """End every live session of a user (password changed, user disabled); returns how many."""
    return conn.execute(text("UPDATE user_session SET ended_at = now(), ended_reason = :r "
                             "WHERE user_id = :u AND ended_at IS NULL"),
                        {"u": user_id, "r": reason}).rowcount


def end_others(conn: Connection, user_id: int, keep_sid: str | None, reason: str) -> int:
    """End every live session of a user but the one in use (the user changed their own
    password: other devices, and whoever copied a cookie, must log in again)."""
    return conn.execute(text("UPDATE user_session SET ended_at = now(), ended_reason = :r "
                             "WHERE user_id = :u AND ended_at IS NULL AND sid_sha256 <> :keep"),
                        {"u": user_id, "r": reason, "keep": _digest(keep_sid or "")}).rowcount


def prune(conn: Connection, life: Lifetimes) -> None:
    """Forget sessions that ended or expired more than a day ago (called at login)."""
    conn.execute(text("""
        DELETE FROM user_session WHERE ended_at < now() - interval '1 day'
           OR last_seen_at < now() - make_interval(secs => :idle) - interval '1 day'
           OR created_at < now() - make_interval(secs => :absolute) - interval '1 day'"""),
        {"idle": life.idle_s, "absolute": life.absolute_s})

"""User accounts and API tokens (no Flask here): hashing, creation, authentication."""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, text

from gisdesk import audit, sessions
from gisdesk.db import hot
from gisdesk.errors import Conflict, InputRejected, NotFound, RateLimited
from gisdesk.passwords import check_strength
from gisdesk.roles import ROLES

_hasher = PasswordHasher()
# Verifying against a dummy hash when the user does not exist keeps timing uniform.
_DUMMY_HASH = _hasher.hash("gisdesk-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(conn: Connection, username: str, password: str, role: str, *,
                agency: str | None = None, kelurahan_kode: str | None = None,
                full_name: str | None = None, actor: str = "system") -> int:
    username = username.strip().lower()
    if role not in ROLES:
        raise InputRejected(f"Peran '{role}' tidak dikenal; pilih salah satu dari {', '.join(ROLES)}.",
                            field="role")
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise InputRejected("Nama pengguna: huruf, angka, '.', '-' atau '_' (maks. 64).",
                            field="username")
    check_strength(password, username)
    if role == "operator" and not agency:
        raise InputRejected("Operator perlu instansi (kpu, polri, bawaslu, pemkot).",
                            field="agency")
    if kelurahan_kode and conn.execute(text("SELECT 1 FROM kelurahan WHERE kode = :k"),
                                       {"k": kelurahan_kode}).first() is None:
        raise InputRejected(f"Kelurahan {kelurahan_kode} tidak dikenal (tulis kodenya, mis. "
                            "52.71.01.1004).", field="kelurahan")
    exists = conn.execute(text("SELECT 1 FROM users WHERE username = :u"),
                          {"u": username}).first()
    if exists:
        raise Conflict(f"Pengguna '{username}' sudah ada.", field="username")
    user_id = conn.execute(text(
        "INSERT INTO users (username, full_name, password_hash, role, agency, kelurahan_kode) "
        "VALUES (:u, :f, :h, :r, :a, :k) RETURNING id"),
        {"u": username, "f": full_name, "h": hash_password(password), "r": role,
         "a": agency, "k": kelurahan_kode}).scalar_one()
    audit.record(conn, actor, "user.create", username, {"role": role, "agency": agency})
    return user_id


def authenticate(conn: Connection, username: str, password: str) -> dict | None:
    row = conn.execute(text("SELECT * FROM users WHERE username = :u AND active"),
                       {"u": (username or "").strip().lower()}).mappings().first()
    if row is None:
        check_password(_DUMMY_HASH, password or "")
        return None
    if not check_password(row["password_hash"], password or ""):
        return None
    conn.execute(text("UPDATE users SET last_login_at = now() WHERE id = :i"), {"i": row["id"]})
    return dict(row)


def get_user(conn: Connection, user_id: int) -> dict | None:
    row = conn.execute(text("SELECT * FROM users WHERE id = :i AND active"),
                       {"i": user_id}).mappings().first()
    return dict(row) if row else None


def _user_id(conn: Connection, username: str) -> int:
    user_id = conn.execute(text("SELECT id FROM users WHERE username = :u"),
                           {"u": (username or "").strip().lower()}).scalar()
    if user_id is None:
        raise NotFound(f"Pengguna '{username}' tidak ada.", field="username")
    return user_id


def _revoke_everything(conn: Connection, user_id: int, reason: str) -> dict:
    """End the user's sessions and revoke their API tokens (a stolen cookie or token dies)."""
    ended = sessions.end_all(conn, user_id, reason)
    revoked = conn.execute(text("UPDATE api_token SET revoked = true "
                                "WHERE user_id = :u AND NOT revoked"), {"u": user_id}).rowcount
    return {"sessions_ended": ended, "tokens_revoked": revoked}


def change_password(conn: Connection, username: str, password: str, *, actor: str) -> dict:
    """Set a new (strong) password; every session and API token of the user ends."""
    user_id = _user_id(conn, username)
    check_strength(password, username.strip().lower())
    conn.execute(text("UPDATE users SET password_hash = :h, password_changed_at = now() "
                      "WHERE id = :i"), {"h": hash_password(password), "i": user_id})
    ended = _revoke_everything(conn, user_id, "password")
    audit.record(conn, actor, "user.password", username.strip().lower(), ended)
    return ended


def change_own_password(conn: Connection, user_id: int, old: str, new: str, *,
                        keep_sid: str | None) -> int:
    """A user changes their own password: the old one must be right and the new one strong
    and different. Their other sessions end (this one stays); API tokens are kept, since
    they are separate keys the user lists and revokes on the same page. Returns how many
    sessions ended."""
    row = conn.execute(text("SELECT username, password_hash FROM users WHERE id = :i AND active"),
                       {"i": user_id}).first()
    if row is None:
        raise NotFound("Pengguna tidak ada atau nonaktif.", field="username")
    if not check_password(row.password_hash, old or ""):
        raise InputRejected("Kata sandi lama salah.", field="old_password")
    if new == old:
        raise InputRejected("Kata sandi baru sama dengan yang lama.", field="password")
    check_strength(new, row.username)
    conn.execute(text("UPDATE users SET password_hash = :h, password_changed_at = now() "
                      "WHERE id = :i"), {"h": hash_password(new), "i": user_id})
    ended = sessions.end_others(conn, user_id, keep_sid, "password")
    audit.record(conn, row.username, "user.password", row.username,
                 {"sessions_ended": ended, "by": "self"})
    return ended


def set_active(conn: Connection, username: str, active: bool, *, actor: str) -> dict:
    """Enable or disable a user; disabling ends their sessions and revokes their tokens
    (enabling again does not bring those back)."""
    user_id = _user_id(conn, username)
    conn.execute(text("UPDATE users SET active = :a WHERE id = :i"), {"a": active, "i": user_id})
    ended = {} if active else _revoke_everything(conn, user_id, "disabled")
    audit.record(conn, actor, "user.enable" if active else "user.disable",
                 username.strip().lower(), ended)
    return ended


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: Connection, user_id: int, name: str, actor: str) -> str:
    """A new personal API token; only its SHA-256 is stored, the token is shown once."""
    token = "gd_" + secrets.token_urlsafe(32)
    conn.execute(text("INSERT INTO api_token (user_id, token_sha256, name) VALUES (:u, :h, :n)"),
                 {"u": user_id, "h": token_digest(token), "n": name})
    audit.record(conn, actor, "token.create", str(user_id), {"name": name})
    return token


# One query for every API request (``user_for_token``): the address's recent failures and the
# token's active owner.
TOKEN_CHECK = hot.Statement(
    "SELECT f.n AS failures, t.id AS token_id, t.last_used_at < now() - interval "
    "'5 minutes' OR t.last_used_at IS NULL AS token_stale, u.* "
    "FROM (SELECT count(*) AS n FROM rate_limit_hit WHERE bucket = :b "
    "      AND at > now() - make_interval(secs => :s)) f "
    "LEFT JOIN (api_token t JOIN users u ON u.id = t.user_id AND u.active "
    "           AND (CAST(:u AS text) IS NULL OR u.username = :u)) "
    "ON t.token_sha256 = :h AND NOT t.revoked")


def user_for_token(conn: Connection, token: str, *, username: str | None = None,
                   throttle: tuple[str, int, int] | None = None) -> dict | None:
    """The active user behind a token (and, for HTTP Basic, only when ``username`` is that
    token's owner). ``last_used_at`` is refreshed at most every five minutes, so an API
    client's requests stay read-only here (no write, no WAL flush each).

    ``throttle`` = (bucket, limit, seconds): the bucket's recent failures are counted in the
    same query, and a caller at the limit is refused even with a good token (raises
    RateLimited), so a token cannot be guessed past the limit. One query either way."""
    bucket, limit, seconds = throttle or ("", 0, 0)
    row = hot.first(conn, TOKEN_CHECK, {"h": token_digest(token), "u": username, "b": bucket,
                                        "s": seconds})
    if throttle and row["failures"] >= limit:
        raise RateLimited("Terlalu banyak percobaan token yang gagal dari alamat ini. "
                          "Tunggu beberapa menit lalu coba lagi.", field="Authorization")
    if row["token_id"] is None:
        return None
    if row["token_stale"]:
        conn.execute(text("UPDATE api_token SET last_used_at = now() WHERE id = :i"),
                     {"i": row["token_id"]})
    return {k: v for k, v in row.items() if k not in ("token_id", "token_stale", "failures")}


def record_token_failure(conn: Connection, bucket: str, seconds: int) -> None:
    """Count one failed token check (and forget this bucket's failures past the window)."""
    conn.execute(text("DELETE FROM rate_limit_hit WHERE bucket = :b "
                      "AND at < now() - make_interval(secs => :s)"), {"b": bucket, "s": seconds})
    conn.execute(text("INSERT INTO rate_limit_hit (bucket) VALUES (:b)"), {"b": bucket})


def list_tokens(conn: Connection, user_id: int) -> list[dict]:
    """A user's tokens, newest first (never the token itself: only its name and dates)."""
    return [dict(r) for r in conn.execute(text(
        "SELECT id, name, created_at, last_used_at, revoked FROM api_token "
        "WHERE user_id = :u ORDER BY created_at DESC, id DESC"), {"u": user_id}).mappings()]


def revoke_token(conn: Connection, user_id: int, token_id: int, actor: str) -> None:
    """Revoke one of the user's own tokens; another user's token is 'not found'."""
    done = conn.execute(text(
        "UPDATE api_token SET revoked = true WHERE id = :t AND user_id = :u RETURNING name"),
        {"t": token_id, "u": user_id}).first()
    if done is None:
        raise NotFound("Token tidak ditemukan.", field="token")
    audit.record(conn, actor, "token.revoke", str(user_id), {"token": token_id,
                                                               "name": done[0]})


def too_many_failures(conn: Connection, bucket: str, limit: int, seconds: int) -> bool:
    """True when ``bucket`` has ``limit`` or more failures in the last ``seconds``.

    Counters live in the database so every worker process shares them; only failures count,
    so a desk office behind one address can still log in all its staff in the morning.
    """
    conn.execute(text("DELETE FROM rate_limit_hit WHERE at < now() - make_interval(secs => :s)"),
                 {"s": seconds * 2})
    hits = conn.execute(text(
        "SELECT count(*) FROM rate_limit_hit WHERE bucket = :b "
        "AND at > now() - make_interval(secs => :s)"), {"b": bucket, "s": seconds}).scalar_one()
    return hits >= limit


def record_failure(conn: Connection, bucket: str) -> None:
    conn.execute(text("INSERT INTO rate_limit_hit (bucket) VALUES (:b)"), {"b": bucket})

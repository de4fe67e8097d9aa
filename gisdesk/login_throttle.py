"""Login throttling that slows guessing but never locks the real user out (no Flask here).

Failed logins are counted in the database (``rate_limit_hit``), so every worker process
shares them, in two kinds of bucket:

- one user name from one address: after ``free`` failures within ``window`` seconds, each
  further attempt from that address for that name must wait ``first_delay`` seconds after
  the last failure, doubling with every further failure up to ``window``;
- one address for any user name (spraying many names): the same, after ten times as many.

Only failures count, and only the buckets of the address asking: the right password from
an address that did not fail is never refused, however many addresses guessed before. A
user name failing ``ALERT_FACTOR * free`` times within the window (from anywhere) gets one
``login.suspicious`` audit entry per window and shows on the audit page for the desk heads.
IPv6 addresses are bucketed by their /64 (one host usually owns the whole /64).
"""
from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from sqlalchemy import Connection, text

from gisdesk import audit

ADDRESS_FACTOR = 10
ALERT_FACTOR = 2


@dataclass(frozen=True)
class Policy:
    free: int
    window_s: int
    first_delay_s: int = 5

    @classmethod
    def parse(cls, spec: str) -> "Policy":
        """``failures/window[/first delay]`` as in GISDESK_LOGIN_RATE_LIMIT, e.g. 5/900/5."""
        parts = [int(p) for p in str(spec).split("/")]
        if len(parts) not in (2, 3) or min(parts) < 1:
            raise ValueError(f"login rate limit {spec!r}: write failures/seconds[/delay]")
        return cls(*parts)


def address_key(addr: str | None) -> str:
    try:
        ip = ipaddress.ip_address(addr or "")
    except ValueError:
        return addr or "unknown"
    if ip.version == 6 and not ip.ipv4_mapped:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


def _name(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _buckets(username: str, addr: str | None, policy: Policy) -> dict[str, int]:
    key = address_key(addr)
    return {f"login:ua:{_name(username)}|{key}": policy.free,
            f"login:addr:{key}": policy.free * ADDRESS_FACTOR}


def wait_seconds(conn: Connection, username: str, addr: str | None, policy: Policy) -> int:
    """Seconds this address must still wait before trying ``username`` again (0: go on)."""
    buckets = _buckets(username, addr, policy)
    # parallel guesses from one address for one name queue here until the login's
    # transaction ends, so each sees the failures recorded before it
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:a))"), {"a": list(buckets)[0]})
    rows = conn.execute(text("""
        SELECT bucket, count(*) AS n, extract(epoch FROM now() - max(at)) AS since
        FROM rate_limit_hit WHERE bucket IN (:a, :b)
          AND at > now() - make_interval(secs => :w) GROUP BY bucket"""),
        {"a": list(buckets)[0], "b": list(buckets)[1], "w": policy.window_s}).all()
    wait = 0.0
    for bucket, n, since in rows:
        excess = n - buckets[bucket]
        if excess >= 0:
            delay = min(policy.first_delay_s * 2 ** min(excess, 30), policy.window_s)
            wait = max(wait, delay - float(since))
    return math.ceil(wait) if wait > 0 else 0


def record_failure(conn: Connection, username: str, addr: str | None, policy: Policy) -> None:
    """Count a failed login; tell the desk heads once per window when a name is attacked."""
    conn.execute(text("DELETE FROM rate_limit_hit WHERE bucket LIKE 'login:%' "
                      "AND at < now() - make_interval(secs => :s)"), {"s": policy.window_s * 2})
    name = _name(username)
    for bucket in [*_buckets(username, addr, policy), f"login:name:{name}"]:
        conn.execute(text("INSERT INTO rate_limit_hit (bucket) VALUES (:b)"), {"b": bucket})
    failures = conn.execute(text(
        "SELECT count(*) FROM rate_limit_hit WHERE bucket = :b "
        "AND at > now() - make_interval(secs => :w)"),
        {"b": f"login:name:{name}", "w": policy.window_s}).scalar_one()
    if failures < policy.free * ALERT_FACTOR:
        return
    known = conn.execute(text("SELECT 1 FROM users WHERE username = :u"), {"u": name}).first()
    told = conn.execute(text(
        "SELECT 1 FROM audit_log WHERE action = 'login.suspicious' AND target = :u "
        "AND at > now() - make_interval(secs => :w)"), {"u": name, "w": policy.window_s}).first()
    if known and not told:
        audit.record(conn, "system", "login.suspicious", name,
                     {"failures": failures, "window_s": policy.window_s,
                      "addresses": _addresses(conn, name, policy)})


def _like_prefix(name: str) -> str:
    return "login:ua:" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "|%"


def _addresses(conn: Connection, name: str, policy: Policy) -> int:
    return conn.execute(text(
        "SELECT count(DISTINCT bucket) FROM rate_limit_hit WHERE bucket LIKE :p "
        "AND at > now() - make_interval(secs => :w)"),
        {"p": _like_prefix(name), "w": policy.window_s}).scalar_one()


def attacked_accounts(conn: Connection, policy: Policy) -> list[dict]:
    """Existing user names failing often within the window, for the notice to desk heads."""
    rows = conn.execute(text("""
        SELECT u.username, count(*) AS failures, max(h.at) AS last_at
        FROM rate_limit_hit h JOIN users u ON h.bucket = 'login:name:' || u.username
        WHERE h.bucket LIKE 'login:name:%' AND h.at > now() - make_interval(secs => :w)
        GROUP BY u.username HAVING count(*) >= :n ORDER BY max(h.at) DESC LIMIT 20"""),
        {"w": policy.window_s, "n": policy.free * ALERT_FACTOR}).mappings().all()
    return [{**r, "addresses": _addresses(conn, r["username"], policy)} for r in rows]

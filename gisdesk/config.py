"""Settings: defaults, then GISDESK_* environment variables, then an explicit mapping (tests)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

WITA = "Asia/Makassar"


@dataclass(frozen=True)
class Settings:
    home: Path = Path("var")
    database_url: str | None = None          # None -> the embedded cluster under home
    read_database_url: str | None = None     # optional streaming replica for reads
    port: int = 5000
    host: str = "127.0.0.1"
    secret_key: str | None = None            # None -> generated once and kept in home
    rules_file: Path | None = None           # None -> the packaged gisdesk/rules.toml
    layers_dir: Path = Path(__file__).resolve().parent.parent / "layers"
    timezone: str = WITA
    max_upload_mb: int = 20
    upload_max_rows: int = 100_000          # data rows of one uploaded table
    upload_max_problems: int = 10_000       # problems kept in an answer and its report
    upload_parallel: int = 2                # uploads checked at once, across all workers
    # failed logins from one address for one user name / within seconds before delays start
    # [/first delay in seconds, doubling]; see gisdesk.login_throttle
    login_rate_limit: str = "5/900/5"
    session_idle_minutes: int = 120          # a session unused this long ends
    session_max_hours: int = 16              # and any session ends this long after login
    public_url: str | None = None            # e.g. https://desk.example.go.id (links, cookies)
    cookie_secure: bool | None = None        # None -> on when public_url is https
    hsts_seconds: int | None = None          # None -> one year when public_url is https, else off
    trusted_proxies: int = 0                 # reverse proxies whose X-Forwarded-* are believed
    worker_clock_seconds: float = 60.0     # the analysis worker advances as_of this often
    worker_debounce_ms: int = 250          # longest wait for a burst of writes to end, and
    #                                        the least time between two catch-ups
    testing: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def var(self) -> Path:
        return self.home.resolve()


_ENV = {
    "home": ("GISDESK_HOME", Path),
    "database_url": ("GISDESK_DATABASE_URL", str),
    "read_database_url": ("GISDESK_READ_DATABASE_URL", str),
    "port": ("GISDESK_PORT", int),
    "host": ("GISDESK_HOST", str),
    "secret_key": ("GISDESK_SECRET_KEY", str),
    "rules_file": ("GISDESK_RULES_FILE", Path),
    "layers_dir": ("GISDESK_LAYERS_DIR", Path),
    "max_upload_mb": ("GISDESK_MAX_UPLOAD_MB", int),
    "upload_max_rows": ("GISDESK_UPLOAD_MAX_ROWS", int),
    "upload_max_problems": ("GISDESK_UPLOAD_MAX_PROBLEMS", int),
    "upload_parallel": ("GISDESK_UPLOAD_PARALLEL", int),
    "login_rate_limit": ("GISDESK_LOGIN_RATE_LIMIT", str),
    "session_idle_minutes": ("GISDESK_SESSION_IDLE_MINUTES", int),
    "session_max_hours": ("GISDESK_SESSION_MAX_HOURS", int),
    "public_url": ("GISDESK_PUBLIC_URL", str),
    "cookie_secure": ("GISDESK_COOKIE_SECURE", lambda raw: _flag(raw)),
    "hsts_seconds": ("GISDESK_HSTS_SECONDS", int),
    "trusted_proxies": ("GISDESK_TRUSTED_PROXIES", int),
    "worker_clock_seconds": ("GISDESK_WORKER_CLOCK_SECONDS", float),
    "worker_debounce_ms": ("GISDESK_WORKER_DEBOUNCE_MS", int),
}


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on", "ya"):
        return True
    if value in ("0", "false", "no", "off", "tidak"):
        return False
    raise ValueError(f"expected 1/0, true/false, yes/no, on/off: {raw!r}")


def behind_https(settings: Settings) -> bool:
    return (settings.public_url or "").lower().startswith("https://")


def cookie_secure(settings: Settings) -> bool:
    """Cookies are ``Secure`` behind HTTPS unless switched off (tests on http://127.0.0.1)."""
    return behind_https(settings) if settings.cookie_secure is None else settings.cookie_secure


def hsts_seconds(settings: Settings) -> int:
    """Strict-Transport-Security max-age: one year behind HTTPS by default, off on http."""
    if settings.hsts_seconds is not None:
        return max(0, settings.hsts_seconds)
    return 31536000 if behind_https(settings) else 0


def load_settings(overrides: dict | None = None, environ: dict | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict = {}
    for name, (var, kind) in _ENV.items():
        raw = env.get(var)
        if raw not in (None, ""):
            values[name] = kind(raw)
    known = {f.name for f in fields(Settings)}
    for key, value in (overrides or {}).items():
        if key in known:
            kind = _ENV.get(key, (None, None))[1]
            values[key] = kind(value) if kind and isinstance(value, str) else value
    return replace(Settings(), **values)


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once per installation and kept in $GISDESK_HOME."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.var / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key

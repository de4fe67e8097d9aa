"""Log in and out, who is asking (session or API token), and the one permission check.

Every view declares its permission with ``@requires(...)``; a view without one is refused
to everybody (fail closed), except the few public endpoints listed here.
"""
from __future__ import annotations

import base64
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, g, jsonify, redirect, render_template,
                   request, session, url_for)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import NotFound
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from gisdesk import accounts, audit, sessions
from gisdesk.entry import wita
from gisdesk.entry.scope import write_scope
from gisdesk.login_throttle import (Policy, address_key, attacked_accounts, record_failure,
                                    wait_seconds)
from gisdesk.roles import ROLE_LABELS, allowed
from gisdesk.db.engine import transaction
from gisdesk.web.dbs import write_connection

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
PUBLIC_ENDPOINTS = {"auth.login", "pages.healthz", "static", "assets.vendor"}
# A view needing only these is secret (the quick count): to a signed-in user without the right
# it answers exactly what an unknown URL answers (404), so not even its existence shows.
SECRET_PERMISSIONS = frozenset({"quickcount", "result_entry"})


class User(UserMixin):
    def __init__(self, row: dict):
        self.row = row
        self.id = row["id"]
        self.username = row["username"]
        self.role = row["role"]
        self.agency = row.get("agency")
        self.kelurahan_kode = row.get("kelurahan_kode")

    @property
    def write_scope(self) -> str | None:
        """The one kelurahan this user may record for, or None (city-wide)."""
        return write_scope(self.role, self.kelurahan_kode)

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def engine():
    return current_app.extensions["gisdesk.engine"]


SESSION_KEY = "_sid"   # the server-side session's id inside the signed cookie


def _lifetimes() -> sessions.Lifetimes:
    settings = current_app.extensions["gisdesk.settings"]
    return sessions.Lifetimes(idle_s=settings.session_idle_minutes * 60,
                              absolute_s=settings.session_max_hours * 3600)


@login_manager.user_loader
def _load_user(user_id: str):
    """The user of a live server-side session: a copied cookie dies with its session."""
    if not str(user_id).isdigit():
        return None
    with engine().begin() as conn:
        row = sessions.load(conn, session.get(SESSION_KEY), int(user_id), _lifetimes())
    return User(row) if row else None


# HTTP Basic (user name + personal token) is what stock QGIS can send; it is accepted only
# for reading the API and the downloads, so it can never carry a write.
BASIC_PATHS = ("/api", "/export/")


@login_manager.request_loader
def _load_token_user(req):
    """A caller with ``Authorization: Bearer TOKEN``, or HTTP Basic with the user name and a
    personal token as the password (GET/HEAD of /api and /export only; the account password
    is never accepted here). Failed checks count per address (shared in the database); at the
    limit every token check from that address is refused with 429 for a while."""
    credentials = _token_credentials(req)
    if credentials is None:
        return None
    username, token = credentials
    policy = _policy()
    bucket = f"token:addr:{address_key(req.remote_addr)}"
    # one autocommit statement on the connection the request's write will use
    conn = write_connection()
    row = accounts.user_for_token(conn, token, username=username,
                                  throttle=(bucket, policy.free * 5, policy.window_s))
    if row is None:  # failures only: a working QGIS sends many requests at once
        with transaction(conn):
            accounts.record_token_failure(conn, bucket, policy.window_s)
    if row:
        g.via_token = True
    return User(row) if row else None


def _token_credentials(req) -> tuple[str | None, str] | None:
    header = req.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return None, value.strip()
    if scheme.lower() != "basic" or req.method not in ("GET", "HEAD") \
            or not (req.path == "/api" or req.path.startswith(BASIC_PATHS)):
        return None
    try:
        username, sep, token = base64.b64decode(value.strip(), validate=True).decode(
            "utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    if not sep or not username or not token:
        return None
    return username.strip().lower(), token


def requires(*permissions: str):
    """Mark a view with the permission(s) it needs (any one of them suffices)."""
    def mark(view):
        view.gisdesk_permissions = frozenset(permissions)
        return view
    return mark


def public(view):
    view.gisdesk_public = True
    return view


JSON_SUFFIXES = (".json", ".geojson", ".pbf")


def wants_json() -> bool:
    """Data endpoints answer errors (401, 403, 404, 422) in JSON, pages in HTML."""
    path = request.path
    return (path.startswith(("/api", "/tiles")) or path.endswith(JSON_SUFFIXES)
            or path == "/map/search" or request.accept_mimetypes.best == "application/json")


def _deny(status: int, message: str):
    if wants_json():
        return jsonify({"error": message, "status": status}), status
    if status == 401:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return render_template("error.html", status=status, message=message), status


def _check_access():
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None:
        return None  # 404/405 are handled by Flask
    if request.endpoint in PUBLIC_ENDPOINTS or getattr(view, "gisdesk_public", False):
        return None
    if not current_user.is_authenticated:
        return _deny(401, "Silakan masuk (login) terlebih dahulu.")
    needed = getattr(view, "gisdesk_permissions", None)
    if not needed or not any(current_user.can(p) for p in needed):
        if is_secret(view):
            raise NotFound()   # the very 404 of an unknown URL (gisdesk.web.errors)
        return _deny(403, "Peran Anda tidak berwenang membuka halaman ini.")
    return None


def is_secret(view) -> bool:
    needed = getattr(view, "gisdesk_permissions", None)
    return bool(needed) and needed <= SECRET_PERMISSIONS


def hidden_from_caller(endpoints) -> bool:
    """True when every endpoint is secret and the signed-in caller may use none of them (a
    405 for such a URL would tell that it exists)."""
    views = [current_app.view_functions.get(e) for e in endpoints]
    return bool(views) and current_user.is_authenticated and all(
        is_secret(v) and not any(current_user.can(p) for p in v.gisdesk_permissions)
        for v in views)


def _csrf_unless_token():
    """Every state-changing request needs the CSRF token, except API-token callers (scripts,
    QGIS) that carry no cookie a forged page could ride on. Runs after the access check, which
    is when the caller (and so ``g.via_token``) is known."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return  # switched off by configuration (some unit tests)
    if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and not g.get("via_token"):
        from gisdesk.web import csrf
        csrf.protect()


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # "basic": a phone moving between wifi and cellular keeps its session ("strong" would drop
    # it, and would also ignore a bearer token sent with a stray session cookie)
    login_manager.session_protection = "basic"
    app.before_request(_check_access)
    app.before_request(_csrf_unless_token)

    @app.context_processor
    def _user_context():
        return {"current_user": current_user, "login_alerts": _login_alerts}


def _login_alerts() -> list[dict]:
    """User names under attack (many failed logins), shown to the desk heads."""
    if not current_user.is_authenticated or not current_user.can("review"):
        return []
    with engine().connect() as conn:
        return [{**a, "last_wita": wita(a["last_at"])} for a in attacked_accounts(conn, _policy())]


class LoginForm(FlaskForm):
    username = StringField("Nama pengguna", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Kata sandi", validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") \
            and not target.startswith("//"):
        return target
    return url_for("pages.index")


def _policy() -> Policy:
    return Policy.parse(current_app.extensions["gisdesk.settings"].login_rate_limit)


def _throttled(conn, name: str, addr: str | None):
    """429 with Retry-After while this address must wait before trying ``name`` again."""
    wait = wait_seconds(conn, name, addr, _policy())
    if not wait:
        return None
    audit.record(conn, name, "login.rate_limited", detail={"addr": addr, "wait_s": wait})
    page = render_template("login.html", form=LoginForm(), error=(
        f"Terlalu banyak percobaan masuk yang gagal dari alamat ini. Tunggu {wait} detik "
        "lalu coba lagi."))
    return page, 429, {"Retry-After": str(wait)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        name, addr = form.username.data, request.remote_addr
        with engine().begin() as conn:
            refused = _throttled(conn, name, addr)
            if refused:
                return refused
            row = accounts.authenticate(conn, name, form.password.data)
            if row is None:
                record_failure(conn, name, addr, _policy())
            else:
                sessions.prune(conn, _lifetimes())
                sid = sessions.open_session(conn, row["id"], addr)
            audit.record(conn, name, "login.ok" if row else "login.failed",
                         detail={"addr": addr})
        if row:
            # nothing from before the login carries over but the CSRF secret (forms already
            # open in other tabs keep working); who is logged in is the new server session
            csrf_secret = session.get("csrf_token")
            session.clear()
            if csrf_secret:
                session["csrf_token"] = csrf_secret
            login_user(User(row))
            session[SESSION_KEY] = sid
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", form=form,
                               error="Nama pengguna atau kata sandi salah."), 401
    return render_template("login.html", form=form, error=None)


@bp.route("/logout", methods=["POST"])
@requires("view", "result_entry")
def logout():
    with engine().begin() as conn:
        sessions.end(conn, session.pop(SESSION_KEY, None), "logout")
    logout_user()
    flash("Anda telah keluar.")
    return redirect(url_for("auth.login"))

"""Log in and out, who is asking (session or API token), and the one permission check.

Every view declares its permission with ``@requires(...)``; a view without one is refused
to everybody (fail closed), except the few public endpoints listed here.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, g, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from gisdesk import accounts, audit
from gisdesk.roles import ROLE_LABELS, allowed
from gisdesk.web.dbs import write_connection

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
PUBLIC_ENDPOINTS = {"auth.login", "pages.healthz", "static", "assets.vendor"}


class User(UserMixin):
    def __init__(self, row: dict):
        self.row = row
        self.id = row["id"]
        self.username = row["username"]
        self.role = row["role"]
        self.agency = row.get("agency")
        self.kelurahan_kode = row.get("kelurahan_kode")

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def engine():
    return current_app.extensions["gisdesk.engine"]


@login_manager.user_loader
def _load_user(user_id: str):
    with engine().connect() as conn:
        row = accounts.get_user(conn, int(user_id))
    return User(row) if row else None


@login_manager.request_loader
def _load_token_user(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    # one autocommit statement on the connection the request's write will use
    row = accounts.user_for_token(write_connection(), header[7:].strip())
    if row:
        g.via_token = True
    return User(row) if row else None


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
        return _deny(403, "Peran Anda tidak berwenang membuka halaman ini.")
    return None


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
        return {"current_user": current_user}


class LoginForm(FlaskForm):
    username = StringField("Nama pengguna", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Kata sandi", validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") \
            and not target.startswith("//"):
        return target
    return url_for("pages.index")


def _login_buckets(username: str) -> list[tuple[str, int]]:
    """Failure counters: per user name (guessing one password) and per address (spraying)."""
    settings = current_app.extensions["gisdesk.settings"]
    limit = int(settings.login_rate_limit.split("/")[0])
    return [(f"login:user:{username.strip().lower()}", limit),
            (f"login:addr:{request.remote_addr}", limit * 5)]


def _login_window() -> int:
    return int(current_app.extensions["gisdesk.settings"].login_rate_limit.split("/")[1])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with engine().begin() as conn:
            buckets = _login_buckets(form.username.data)
            if any(accounts.too_many_failures(conn, b, n, _login_window()) for b, n in buckets):
                audit.record(conn, form.username.data, "login.rate_limited",
                             detail={"addr": request.remote_addr})
                return render_template("login.html", form=form, error=(
                    "Terlalu banyak percobaan masuk. Tunggu beberapa menit lalu coba lagi.")), 429
            row = accounts.authenticate(conn, form.username.data, form.password.data)
            if row is None:
                for bucket, _ in buckets:
                    accounts.record_failure(conn, bucket)
            audit.record(conn, form.username.data, "login.ok" if row else "login.failed",
                         detail={"addr": request.remote_addr})
        if row:
            login_user(User(row))
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", form=form,
                               error="Nama pengguna atau kata sandi salah."), 401
    return render_template("login.html", form=form, error=None)


@bp.route("/logout", methods=["POST"])
@requires("view", "result_entry")
def logout():
    logout_user()
    flash("Anda telah keluar.")
    return redirect(url_for("auth.login"))

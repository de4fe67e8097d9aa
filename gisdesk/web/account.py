"""The account page (/akun): every user changes their own password and creates, names, lists
and revokes their own personal API tokens (for QGIS, GDAL, scripts). A new token is shown
once; only its SHA-256 is kept."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from gisdesk import accounts, audit
from gisdesk.errors import InputRejected
from gisdesk.indonesian import angka
from gisdesk.login_throttle import Policy, record_failure, wait_seconds
from gisdesk.web.auth import SESSION_KEY, requires

bp = Blueprint("account", __name__)
EVERY_ROLE = ("view", "result_entry")  # between them, every role


class TokenForm(FlaskForm):
    name = StringField("Nama token", validators=[DataRequired(message="Beri nama token."),
                                                 Length(max=80)])


class PasswordForm(FlaskForm):
    old_password = PasswordField("Kata sandi lama", validators=[
        DataRequired(message="Isi kata sandi lama.")])
    password = PasswordField("Kata sandi baru", validators=[
        DataRequired(message="Isi kata sandi baru."), Length(max=256)])
    password_again = PasswordField("Ulangi kata sandi baru", validators=[
        DataRequired(message="Ulangi kata sandi baru."),
        EqualTo("password", message="Kedua kata sandi baru tidak sama.")])


def _engine():
    return current_app.extensions["gisdesk.engine"]


def _page(form, new_token=None, status=200, password_form=None):
    with _engine().connect() as conn:
        tokens = accounts.list_tokens(conn, current_user.id)
    zone = ZoneInfo(current_app.extensions["gisdesk.settings"].timezone)
    for t in tokens:
        for key in ("created_at", "last_used_at"):
            t[key] = t[key] and t[key].astimezone(zone).strftime("%d-%m-%Y %H:%M")
    api_url = request.host_url.rstrip("/") + "/api"
    return render_template("account/tokens.html", form=form, tokens=tokens,
                           new_token=new_token, api_url=api_url,
                           password_form=password_form or PasswordForm(formdata=None)), status


@bp.get("/akun")
@requires(*EVERY_ROLE)
def account_page():
    return _page(TokenForm())


@bp.post("/akun/token")
@requires(*EVERY_ROLE)
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    with _engine().begin() as conn:
        token = accounts.create_token(conn, current_user.id, form.name.data.strip(),
                                      current_user.username)
    return _page(TokenForm(formdata=None), new_token=token, status=201)


@bp.post("/akun/token/<int:token_id>/cabut")
@requires(*EVERY_ROLE)
def revoke_token(token_id: int):
    FlaskForm().validate_on_submit()  # CSRF is checked by the app before this view
    with _engine().begin() as conn:
        accounts.revoke_token(conn, current_user.id, token_id, current_user.username)
    return _page(TokenForm())


def _policy() -> Policy:
    return Policy.parse(current_app.extensions["gisdesk.settings"].login_rate_limit)


@bp.post("/akun/sandi")
@requires(*EVERY_ROLE)
def change_password():
    """A wrong old password counts as a failed login (same throttle): a stolen session cannot
    be used to guess the password."""
    form, name, addr = PasswordForm(), current_user.username, request.remote_addr
    if not form.validate_on_submit():
        return _page(TokenForm(formdata=None), status=422, password_form=form)
    with _engine().begin() as conn:
        wait = wait_seconds(conn, name, addr, _policy())
        if wait:
            form.old_password.errors.append(f"Terlalu banyak percobaan yang gagal. Tunggu "
                                            f"{angka(wait)} detik lalu coba lagi.")
            return _page(TokenForm(formdata=None), status=429, password_form=form)
    try:
        with _engine().begin() as conn:
            ended = accounts.change_own_password(conn, current_user.id, form.old_password.data,
                                                 form.password.data,
                                                 keep_sid=session.get(SESSION_KEY))
    except InputRejected as exc:
        if exc.field == "old_password":
            with _engine().begin() as conn:
                record_failure(conn, name, addr, _policy())
                audit.record(conn, name, "user.password_failed", name, {"addr": addr})
        field = form.old_password if exc.field == "old_password" else form.password
        field.errors.append(exc.message)
        return _page(TokenForm(formdata=None), status=422, password_form=form)
    flash("Kata sandi diganti." + (f" {angka(ended)} sesi lain (perangkat lain) diakhiri; "
                                   "di sana perlu masuk lagi." if ended else ""))
    return redirect(url_for("account.account_page"), 303)


def init_app(app) -> None:
    app.register_blueprint(bp)

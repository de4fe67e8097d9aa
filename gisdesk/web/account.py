"""The account page (/akun): every user creates, names, lists and revokes their own personal
API tokens (for QGIS, GDAL, scripts). A new token is shown once; only its SHA-256 is kept."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from gisdesk import accounts
from gisdesk.web.auth import requires

bp = Blueprint("account", __name__)
EVERY_ROLE = ("view", "result_entry")  # between them, every role


class TokenForm(FlaskForm):
    name = StringField("Nama token", validators=[DataRequired(message="Beri nama token."),
                                                 Length(max=80)])


def _engine():
    return current_app.extensions["gisdesk.engine"]


def _page(form, new_token=None, status=200):
    with _engine().connect() as conn:
        tokens = accounts.list_tokens(conn, current_user.id)
    zone = ZoneInfo(current_app.extensions["gisdesk.settings"].timezone)
    for t in tokens:
        for key in ("created_at", "last_used_at"):
            t[key] = t[key] and t[key].astimezone(zone).strftime("%d-%m-%Y %H:%M")
    api_url = request.host_url.rstrip("/") + "/api"
    return render_template("account/tokens.html", form=form, tokens=tokens,
                           new_token=new_token, api_url=api_url), status


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


def init_app(app) -> None:
    app.register_blueprint(bp)

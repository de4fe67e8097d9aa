"""WSGI entry for gunicorn: `gunicorn gisdesk.web.wsgi:app`."""
from gisdesk.web import create_app

app = create_app()

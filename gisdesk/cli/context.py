"""What every command needs: settings and (lazily) the database engine."""
from __future__ import annotations

import functools
import getpass

from gisdesk.config import load_settings


class CliContext:
    def __init__(self, overrides: dict | None = None):
        self.settings = load_settings(overrides)

    @functools.cached_property
    def engine(self):
        from gisdesk.db.engine import engine_for
        return engine_for(self.settings)

    @property
    def actor(self) -> str:
        """Who is acting, for the audit log: the OS user on the command line."""
        try:
            return f"cli:{getpass.getuser()}"
        except Exception:  # no passwd entry in some containers
            return "cli"

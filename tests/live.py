"""A live server for browser tests: the app on 127.0.0.1 (a free port) in a thread."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def serving(app):
    """Yields the base URL; the server stops when the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- the browser side: one way for every browser test to log in and open the map ---------

def watch_errors(page, *, ignore: tuple[str, ...] = ("favicon",)) -> list[str]:
    """A list that keeps collecting the page's script errors and console errors (those whose
    text holds none of `ignore`) for as long as the page lives."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and not any(
        word in msg.text for word in ignore) else None)
    return errors


def log_in(page, server: str, username: str, password: str, target: str = "/map") -> None:
    """Asks for `target` as an anonymous user, is sent to the login form, and arrives."""
    page.goto(server + target)
    assert "/login" in page.url, page.url  # anonymous: the form comes first
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**" + target)


def open_map(page, server: str, username: str, password: str, *, target: str = "/map",
             ignore: tuple[str, ...] = ("favicon",)) -> list[str]:
    """Logs in through the form, waits for the map to say it is ready and asserts no browser
    error so far; returns the error list, which keeps filling."""
    errors = watch_errors(page, ignore=ignore)
    log_in(page, server, username, password, target)
    try:
        page.wait_for_selector("body[data-map-ready='1']", timeout=30000)
    except Exception:
        raise AssertionError(f"map not ready; browser errors: {errors}") from None
    assert errors == [], errors
    return errors

"""Every page each role can reach, in headless Chromium, read as the user sees it: no English
UI words (Not Found, error, rows, None, True, ...) and every count of 1000 or more written
the Indonesian way (1.248), years and codes excepted.

The crawl logs in as each demo user, starts at its landing page and follows the links on
the pages (same site, HTML pages, not downloads or sign-out), plus one unknown address for
the 404 page. What a page shows after its scripts ran is what is checked (map legend,
popups' tables, queue messages), minus ``<code>`` elements (codes are data)."""
from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import text

from gisdesk.demo.taxonomy import DEMO_PASSWORD, USERS
from gisdesk.web import create_app
from live import serving

ENGLISH = re.compile(r"\b(Not Found|Forbidden|Unauthorized|Internal Server Error|Bad Request|"
                     r"Method Not Allowed|[Ee]rror|rows?|rejected|None|True|False|null|"
                     r"undefined|NaN|Loading|Submit|Cancel|Search|Download|Next|Previous|"
                     r"Page|Back|Save|Delete|Edit|Upload|Login|Logout|Password|Username)\b")
# 4+ digits standing alone: not part of a code, date, time, coordinate or decimal
BARE_COUNT = re.compile(r"(?<![\w.,:/\-+#@])\d{4,}(?![\w.,:/\-])")
SKIP = re.compile(r"(^/logout|^/export/|^/api/|^/tiles/|^/vendor/|^/static/|\.csv|\.geojson|"
                  r"\.gpkg|\.pbf|\.json|/unggah/contoh/|/unggah/laporan/|[?&]f=)")
MAX_PAGES = 24


def _is_year(token: str) -> bool:
    return len(token) == 4 and 1990 <= int(token) <= 2040


def offences(visible: str) -> list[str]:
    found = [f"English word {m.group(0)!r}" for m in ENGLISH.finditer(visible)]
    found += [f"count {m.group(0)} without thousands dot" for m in BARE_COUNT.finditer(visible)
              if not _is_year(m.group(0))]
    return found


def test_the_checker_catches_what_it_should_and_spares_codes_years_and_times():
    assert offences("Not Found") and offences("191770 / 315549") and offences("None")
    assert offences("3 rows rejected") and offences("butuh 3173 m")
    assert not offences("Pemilu 2024 · 14-02-2024 10:00 WITA · TPS 013 · 52.71.01.1004-012 "
                        "· 1.248 TPS · 60,5 % · -8.575500, 116.070500 · 191.770 / 315.549")


@pytest.fixture(scope="module")
def server(demo_engine, tmp_path_factory):
    app = create_app({"database_url": demo_engine.url.render_as_string(hide_password=False),
                      "testing": True, "home": tmp_path_factory.mktemp("home"),
                      "secret_key": "crawl", "login_rate_limit": "1000/300"})
    with serving(app) as url:
        yield url


def _visible(page) -> str:
    if page.locator("#map").count():
        page.wait_for_selector("body[data-map-ready='1']", timeout=30000)
    else:
        page.wait_for_load_state("networkidle")
    body = page.inner_text("body")
    for code in page.locator("code").all_inner_texts():
        body = body.replace(code, " ")
    return body


def _links(page, server) -> list[str]:
    out = []
    for href in page.locator("a[href]").evaluate_all("els => els.map(e => e.href)"):
        parts = urlsplit(urljoin(server + "/", href))
        if f"{parts.scheme}://{parts.netloc}" != server:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not SKIP.search(path):
            out.append(path)
    return out


@pytest.mark.parametrize("username", sorted(USERS))
def test_every_page_a_role_reaches_is_in_indonesian_with_indonesian_numbers(
        browser, server, demo_engine, username):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=server,
                                  locale="id-ID")
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    with demo_engine.connect() as conn:
        some_tps = conn.execute(text("SELECT kode FROM tps ORDER BY kode LIMIT 1")).scalar()
    queue = deque([urlsplit(page.url).path, "/halaman-yang-tidak-ada", f"/kesiapan/{some_tps}"])
    seen_paths, problems = set(), []
    while queue and len(seen_paths) < MAX_PAGES:
        url = queue.popleft()
        path = urlsplit(url).path
        if path in seen_paths:
            continue                    # one query variant per page is enough
        seen_paths.add(path)
        page.goto(url)
        problems += [f"{url}: {o}" for o in offences(_visible(page))]
        queue.extend(_links(page, server))
    context.close()
    assert len(seen_paths) >= 3, seen_paths
    assert not problems, "\n".join(problems[:40])

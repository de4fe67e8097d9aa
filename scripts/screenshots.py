"""README screenshots from the demo, in headless Chromium (Debian's, as in the tests): the
coordinator map and the briefing print on a desktop (1366x768) and a phone (390x844), and the
phone report form (/lapor) with a point read from a pasted map link.

    .venv/bin/gisdesk demo            # once: the Mataram demo in the embedded database
    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only map] [--only lapor]

It serves the app on 127.0.0.1 (a free port, stopped at the end) against the database the
`gisdesk` command uses (GISDESK_DATABASE_URL or the embedded cluster) and logs in as the
demo supervisor (the report form as the demo desk staff; nothing is sent: the form is filled,
not submitted). Needs the test extras (playwright) and /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from werkzeug.serving import make_server

from gisdesk.demo.taxonomy import DEMO_DESK_STAFF, DEMO_PASSWORD
from gisdesk.web import create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
# browser context settings per screen: the phone is a touch screen at 1 px per CSS px
SIZES = {"desktop": {"viewport": {"width": 1366, "height": 768}},
         "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1,
                   "is_mobile": True, "has_touch": True}}
# a WhatsApp location as desk staff receive it (Kantor Walikota Mataram area)
PASTED = "https://maps.google.com/maps?q=-8.5834%2C116.1065&z=17&hl=id"


def _map_ready(page) -> None:
    page.wait_for_selector("body[data-map-ready]", timeout=60000)
    page.wait_for_timeout(800)   # cluster icons are drawn in chunks


def _print_ready(page) -> None:
    page.wait_for_selector(".briefing svg.briefing-map", timeout=60000)


def _report_filled(page) -> None:
    page.select_option("select[name=category]", "intimidasi")
    page.select_option("select[name=severity]", "sedang")
    page.fill("input[name=coords]", PASTED)
    page.fill("textarea[name=description]", "Sekelompok orang menghalangi pemilih masuk ke TPS.")
    page.wait_for_selector("#coords-preview.ok", timeout=15000)
    page.wait_for_selector("#lapor-map path", state="attached")
    page.wait_for_timeout(600)      # the small map settles on the point


@dataclass(frozen=True)
class Shot:
    path: str
    ready: Callable
    full_page: bool = False
    sizes: tuple[str, ...] = tuple(SIZES)
    user: str | None = None         # None: the --user given (the supervisor)


# name -> shot; each is written as <name>-<size>.png
SHOTS = {
    "map": Shot("/map", _map_ready),
    "map-ampenan": Shot("/map?kecamatan=52.71.01&waktu=0", _map_ready),
    "briefing": Shot("/map/cetak?kecamatan=52.71.01", _print_ready, full_page=True),
    "lapor": Shot("/lapor", _report_filled, full_page=True, sizes=("phone",),
                  user=DEMO_DESK_STAFF),
}


def _shrink(path: Path) -> None:
    """256 colours are plenty for a map and tables: README images stay small in git."""
    from PIL import Image
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


@contextmanager
def serving():
    app = create_app({"login_rate_limit": "1000/300"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _log_in(page, base: str, user: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def shoot(out: Path, only: set[str] | None = None, user: str = "supervisor") -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    chosen = {n: s for n, s in SHOTS.items() if not only or n in only}
    # one browser context (one login) per user and screen
    groups = sorted({(s.user or user, size) for s in chosen.values() for size in s.sizes})
    written = []
    with serving() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for login_as, size in groups:
            context = browser.new_context(locale="id-ID", timezone_id="Asia/Makassar",
                                          **SIZES[size])
            page = context.new_page()
            _log_in(page, base, login_as)
            for name, shot in chosen.items():
                if (shot.user or user) != login_as or size not in shot.sizes:
                    continue
                page.goto(base + shot.path)
                shot.ready(page)
                target = out / f"{name}-{size}.png"
                page.screenshot(path=str(target), full_page=shot.full_page)
                _shrink(target)
                written.append(target)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", action="append", choices=sorted(SHOTS))
    parser.add_argument("--user", default="supervisor", help="demo login to shoot as")
    args = parser.parse_args()
    for path in shoot(args.out, set(args.only or ()), args.user):
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
              f"({path.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()

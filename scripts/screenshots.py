"""README screenshots from the demo: the coordinator map and the briefing print, on a desktop
(1366x768) and a phone (390x844), in headless Chromium (Debian's, as in the tests).

    .venv/bin/gisdesk demo            # once: the Mataram demo in the embedded database
    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only map]

It serves the app on 127.0.0.1 (a free port, stopped at the end) against the database the
`gisdesk` command uses (GISDESK_DATABASE_URL or the embedded cluster) and logs in as the
demo supervisor. Needs the test extras (playwright) and /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import threading
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

from gisdesk.demo.taxonomy import DEMO_PASSWORD
from gisdesk.web import create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}


def _map_ready(page) -> None:
    page.wait_for_selector("body[data-map-ready]", timeout=60000)
    page.wait_for_timeout(800)   # cluster icons are drawn in chunks


def _print_ready(page) -> None:
    page.wait_for_selector(".briefing svg.briefing-map", timeout=60000)


# name -> (path, wait, full page?)
SHOTS = {
    "map": ("/map", _map_ready, False),
    "map-ampenan": ("/map?kecamatan=52.71.01&waktu=0", _map_ready, False),
    "briefing": ("/map/cetak?kecamatan=52.71.01", _print_ready, True),
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


def shoot(out: Path, only: set[str] | None = None, user: str = "supervisor") -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serving() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for size, (width, height) in SIZES.items():
            context = browser.new_context(viewport={"width": width, "height": height},
                                          locale="id-ID", timezone_id="Asia/Makassar")
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            for name, (path, wait, full) in SHOTS.items():
                if only and name not in only:
                    continue
                page.goto(base + path)
                wait(page)
                target = out / f"{name}-{size}.png"
                page.screenshot(path=str(target), full_page=full)
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

"""README screenshot of the phone report form (/lapor, 390x844) from the demo, in headless
Chromium (Debian's, as in the tests): the form with a point read from a pasted map link, the
small map with the work area and the point, and the send queue.

    .venv/bin/gisdesk demo            # once: the Mataram demo in the embedded database
    .venv/bin/python scripts/screenshot_lapor.py [--out docs/screenshots]

It serves the app on 127.0.0.1 (a free port, stopped at the end) against the database the
`gisdesk` command uses and logs in as the demo desk staff (petugas). Nothing is sent: the
form is filled, not submitted. Needs the test extras (playwright) and /usr/bin/chromium.
(Same conventions as the map screenshots script; fold into it as one more shot.)
"""
from __future__ import annotations

import argparse
import threading
from pathlib import Path

from werkzeug.serving import make_server

from gisdesk.demo.taxonomy import DEMO_DESK_STAFF, DEMO_PASSWORD
from gisdesk.web import create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
# a WhatsApp location as desk staff receive it (Kantor Walikota Mataram area)
PASTED = "https://maps.google.com/maps?q=-8.5834%2C116.1065&z=17&hl=id"


def _shrink(path: Path) -> None:
    """256 colours are plenty for a form: README images stay small in git (Pillow, when
    installed; otherwise the PNG stays as Chromium wrote it)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def shoot(base_url: str, out: Path) -> Path:
    from playwright.sync_api import sync_playwright
    target = out / "lapor-phone.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True,
                                      has_touch=True, base_url=base_url, locale="id-ID")
        page = context.new_page()
        page.goto("/login?next=/lapor")
        page.fill("input[name=username]", DEMO_DESK_STAFF)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/lapor")
        page.select_option("select[name=category]", "intimidasi")
        page.select_option("select[name=severity]", "sedang")
        page.fill("input[name=coords]", PASTED)
        page.fill("textarea[name=description]",
                  "Sekelompok orang menghalangi pemilih masuk ke TPS.")
        page.wait_for_selector("#coords-preview.ok", timeout=15000)
        page.wait_for_selector("#lapor-map path", state="attached")
        page.wait_for_timeout(600)      # the map settles on the point
        page.screenshot(path=str(target), full_page=True)
        context.close()
        browser.close()
    _shrink(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = create_app({"login_rate_limit": "1000/300"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        print(shoot(f"http://127.0.0.1:{server.server_port}", args.out))
    finally:
        server.shutdown()
        thread.join(5)


if __name__ == "__main__":
    main()

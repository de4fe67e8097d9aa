"""The coordinator map's first render in headless Chromium (Debian's), logged in as the
demo viewer, cold cache: time from navigation to the map saying it is ready
(``body[data-map-ready='1']``) and the bytes transferred (Performance API). Targets: city
< 0.5 s and < 500 KB; national < 1.5 s and < 1 MB. No floor (absolute targets)."""
from __future__ import annotations

import statistics
from urllib.parse import urlsplit

from gisdesk.bench import Context, row
from gisdesk.bench.server import serve

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
TARGETS = {"city": (0.5, 500 * 1024), "national": (1.5, 1024 * 1024)}
USER, PASSWORD = "koordinator", "mataram2024"

PERF_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const ready = window.gisdesk && window.gisdesk.readyAt;
  return {ready_ms: ready ? ready - nav.startTime : null,
          load_ms: nav.loadEventEnd - nav.startTime,
          fcp_ms: paint ? paint.startTime : null,
          nav_bytes: nav.transferSize || nav.encodedBodySize || 0,
          res_bytes: res.reduce((s, r) => s + (r.transferSize || r.encodedBodySize || 0), 0),
          n_resources: res.length};
}"""


def _one(browser, base: str, timeout_ms: int) -> dict:
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="id-ID")
    foreign: list[str] = []

    def route(r):
        if urlsplit(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()
    context.route("**/*", route)
    page = context.new_page()
    try:
        page.goto(base + "/login")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        sizes: dict[str, int] = {}
        page.on("requestfinished", lambda req: sizes.__setitem__(req.url, (
            req.sizes()["responseBodySize"] + req.sizes()["responseHeadersSize"])))
        page.goto(base + "/map", wait_until="commit")
        timed_out = False
        try:
            page.wait_for_selector("body[data-map-ready='1']", timeout=timeout_ms,
                                   state="attached")
        except Exception:
            timed_out = True
        page.wait_for_timeout(300)
        perf = page.evaluate(PERF_JS)
        perf["wire_bytes"] = sum(sizes.values())
        perf["timed_out"] = timed_out
        perf["foreign_requests"] = len(foreign)
        return perf
    finally:
        context.close()


def measure(ctx: Context) -> list[dict]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [row("map_page_render", ctx.scale, status="not available",
                    note="playwright is not installed")]
    reps = 1 if ctx.quick else 3
    timeout_ms = 120_000 if ctx.scale == "national" else 30_000
    runs = []
    with serve(ctx.url, ctx.work / f"home_map_{ctx.scale}") as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for _ in range(reps):
                runs.append(_one(browser, base, timeout_ms))
        finally:
            browser.close()
    t_target, b_target = TARGETS[ctx.scale]
    ok = [r for r in runs if not r["timed_out"] and r["ready_ms"] is not None]
    details = {"runs": runs}
    if not ok:
        return [row("map_page_render", ctx.scale, status="error",
                    note=f"map not ready within {timeout_ms / 1000:.0f} s", details=details,
                    target=f"< {t_target} s"),
                row("map_page_bytes", ctx.scale, unit="KB", status="error",
                    figure=max(r["nav_bytes"] + r["res_bytes"] for r in runs) / 1024,
                    note="map not ready", target=f"< {b_target // 1024} KB")]
    ready = statistics.median(r["ready_ms"] for r in ok) / 1000
    transferred = statistics.median(max(r["nav_bytes"] + r["res_bytes"], r["wire_bytes"])
                                    for r in ok)
    return [
        row("map_page_render", ctx.scale, figure=ready, target=f"< {t_target} s",
            target_abs=t_target, details=details, floor_name="-",
            note=f"load event {statistics.median(r['load_ms'] for r in ok) / 1000:.2f} s"),
        row("map_page_bytes", ctx.scale, figure=transferred / 1024, unit="KB",
            target=f"< {b_target // 1024} KB", target_abs=b_target / 1024, floor_name="-"),
    ]

"""bench/results.json and the table printed at the end of `make bench`."""
from __future__ import annotations

import json
from pathlib import Path


def _fmt(v, unit=""):
    if v is None:
        return "-"
    if unit in ("s",):
        return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"
    if unit == "ms":
        return f"{v:.1f} ms"
    if unit == "MB":
        return f"{v:.0f} MB"
    if unit == "KB":
        return f"{v:.0f} KB"
    if unit == "req/s":
        return f"{v:.0f}/s"
    return f"{v:.3g}"


def table(rows: list[dict]) -> str:
    head = ("scale", "operation", "figure", "floor", "ratio", "target", "result", "note")
    lines = []
    for r in rows:
        result = {True: "met", False: "MISSED", None: "-"}[r["met"]]
        if r["status"] != "ok":
            result = r["status"]
        lines.append((r["scale"], r["operation"], _fmt(r["figure"], r["unit"]),
                      _fmt(r["floor"], r["unit"]) + (f" ({r['floor_name']})"
                                                      if r.get("floor_name") not in ("", "-")
                                                      and r["floor"] is not None else ""),
                      "-" if r["ratio"] is None else f"{r['ratio']:.2f}x",
                      r["target"] or "-", result, (r["note"] or "")[:70]))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    out = [" | ".join(str(h).ljust(w) for h, w in zip(head, widths)),
           "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(x).ljust(w) for x, w in zip(line, widths)) for line in lines]
    return "\n".join(out)


def write(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")

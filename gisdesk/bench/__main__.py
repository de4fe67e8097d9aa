"""`python -m gisdesk.bench [--scale city|national|both] [--quick] [--reuse]`
(what `make bench` runs): builds the benchmark databases, measures every operation next to
its floor, writes bench/results.json and prints the table."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gisdesk.bench import ROOT, run

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gisdesk.bench", description=__doc__)
    ap.add_argument("--scale", choices=("city", "national", "both"), default="both")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: city only, one repetition, fewer requests")
    ap.add_argument("--reuse", action="store_true",
                    help="keep benchmark databases from an earlier run when complete")
    ap.add_argument("--only", help="comma-separated operations: tps_import,gap,export,"
                                   "tiles,map_page,incident_post,freshness,"
                                   "read_under_writes")
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "bench" / "results.json")
    args = ap.parse_args(argv)
    scales = ["city"] if args.quick else (["city", "national"] if args.scale == "both"
                                          else [args.scale])
    only = args.only.split(",") if args.only else None
    started = time.perf_counter()
    results = run(scales, quick=args.quick, reuse=args.reuse, only=only, output=args.output)
    print(f"\nwritten {args.output} in {time.perf_counter() - started:.0f} s")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())

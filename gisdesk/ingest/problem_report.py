"""The rejection report as a CSV a desk operator reads (web download and ``--report FILE``):
Indonesian headers and words, empty cells instead of Python's None."""
from __future__ import annotations

import csv
import io

from gisdesk.errors import Problem

HEADERS = ("baris", "kolom", "tingkat", "masalah", "nilai")
SEVERITY_WORDS = {"error": "salah", "warning": "peringatan", "fixed": "diperbaiki"}


def problem_rows(problems: list[Problem]) -> list[dict]:
    return [{"baris": "berkas" if p.row is None else p.row, "kolom": p.field or "",
             "tingkat": SEVERITY_WORDS.get(p.severity, p.severity), "masalah": p.reason,
             "nilai": "" if p.value in (None, "None") else p.value} for p in problems]


def problem_csv(problems: list[Problem], last_line: str | None = None) -> str:
    """The report; ``last_line`` (e.g. "12 masalah lagi (tidak dicantumkan)") ends it."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(problem_rows(problems))
    if last_line:
        writer.writerow({"baris": "", "kolom": "", "tingkat": "", "masalah": last_line,
                         "nilai": ""})
    return buffer.getvalue()

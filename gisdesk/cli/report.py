"""Rejection reports a desk operator understands: every bad row, field and reason."""
from __future__ import annotations

from pathlib import Path

import click

from gisdesk.errors import InputRejected, Problem
from gisdesk.ingest.problem_report import SEVERITY_WORDS, problem_csv

# Errors shout (upper case) so they stand out among notes in a long console listing.
_LABEL = {**SEVERITY_WORDS, "error": SEVERITY_WORDS["error"].upper()}


def format_problem(p: Problem) -> str:
    where = f"baris {p.row}" if p.row is not None else "berkas"
    field = f", kolom '{p.field}'" if p.field else ""
    value = f" (nilai: {p.value})" if p.value not in (None, "") else ""
    return f"  [{_LABEL.get(p.severity, p.severity)}] {where}{field}: {p.reason}{value}"


def print_rejection(exc: InputRejected) -> None:
    click.echo(f"DITOLAK: {exc.message}", err=True)
    click.echo("Tidak ada yang ditulis ke basis data.", err=True)
    for p in exc.problems:
        click.echo(format_problem(p), err=True)


def print_notes(problems: list[Problem]) -> None:
    for p in problems:
        if p.severity != "error":
            click.echo(format_problem(p))


def write_report(path: str | Path, problems: list[Problem]) -> None:
    Path(path).write_text(problem_csv(problems), encoding="utf-8", newline="")

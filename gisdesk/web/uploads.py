"""Bounded work for one bulk upload (/unggah): what it may cost, and what it leaves behind.

- size: ``MAX_CONTENT_LENGTH`` (``GISDESK_MAX_UPLOAD_MB``); Werkzeug spools the body to disk.
- rows: a table is counted line by line, in constant memory, before anything parses it;
  more than ``upload_max_rows`` lines is refused at once.
- problems: at most ``upload_max_problems`` go into the answer and the stored report (the
  rest is counted: "dan 999.000 masalah lain"); the HTML page lists ``PAGE_PROBLEMS``.
- parallel uploads: at most ``upload_parallel`` at once across every worker and server,
  held as PostgreSQL advisory locks (released by the server if a worker dies).
- temporary folders ``gisdesk-upload-*``: removed after each upload, and any older than
  ``STALE_SECONDS`` (left by a killed worker) is swept before each upload.
"""
from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, text
from werkzeug.utils import secure_filename

from gisdesk.errors import Busy, InputRejected, Problem
from gisdesk.ingest.problem_report import problem_csv
from gisdesk.ingest.readers import check_zip

PREFIX = "gisdesk-upload-"
STALE_SECONDS = 3600
PAGE_PROBLEMS = 100
REPORT_DAYS = 1
VALUE_CHARS = 200                   # a quoted cell in a problem: enough to recognise it
TABLE_SUFFIXES = (".csv", ".txt")
LOCK_KEY = 0x6755_706C              # advisory-lock class of the upload slots ("gUpl")


def number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def sweep_stale(root: str | None = None, max_age: float = STALE_SECONDS) -> int:
    """Remove upload folders older than ``max_age`` seconds (their worker was killed)."""
    removed, cutoff = 0, time.time() - max_age
    for folder in Path(root or tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except FileNotFoundError:
            continue                # another worker swept it first
    return removed


@contextlib.contextmanager
def upload_slot(engine: Engine, slots: int) -> Iterator[None]:
    """One of ``slots`` upload places shared by every process using this database."""
    with engine.connect() as conn:
        taken = None
        for slot in range(slots):
            if conn.execute(text("SELECT pg_try_advisory_lock(:k, :s)"),
                            {"k": LOCK_KEY, "s": slot}).scalar():
                taken = slot
                break
        conn.commit()
        if taken is None:
            raise Busy(f"Sudah ada {slots} unggahan yang sedang diperiksa. Tunggu sebentar "
                       "lalu kirim lagi.")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k, :s)"), {"k": LOCK_KEY, "s": taken})
            conn.commit()


def count_lines(path: Path, limit: int) -> int:
    """Lines of a text file, read in 1 MB blocks; stops counting past ``limit``."""
    lines, last = 0, b"\n"
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
            if lines > limit:
                break
    return lines + (last != b"\n")


def check_rows(path: Path, max_rows: int) -> None:
    """Refuse a table with more data rows than ``max_rows`` before anything parses it."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return
    if count_lines(path, max_rows + 1) - 1 > max_rows:
        message = (f"Berkas berisi lebih dari {number(max_rows)} baris. Pecah menjadi beberapa "
                   "berkas; tidak ada yang disimpan.")
        raise InputRejected(message, [Problem(None, "file", message)], field="file")


def save(upload, folder: Path, accepted: tuple[str, ...], label: str, *,
         unzip: bool = True) -> Path:
    """The upload under ``folder`` with a safe name (streamed to disk); a zip is checked,
    then its one table is used (unless ``unzip`` is False: the vector reader takes it)."""
    name = secure_filename(upload.filename or "") or "unggahan"
    suffix = Path(name).suffix.lower()
    if suffix not in accepted:
        raise InputRejected(f"Jenis berkas {suffix or '(tanpa ekstensi)'} tidak diterima untuk "
                            f"{label}: kirim {', '.join(accepted)}.",
                            [Problem(None, "file", "jenis berkas tidak diterima", value=suffix)],
                            field="file")
    path = folder / name
    upload.save(path)
    if suffix == ".zip" and unzip:
        members = [m for m in check_zip(path) if m.lower().endswith(".csv")
                   and not Path(m).name.startswith(".")]
        if len(members) != 1:
            raise InputRejected("Zip harus berisi tepat satu berkas CSV.",
                                [Problem(None, "file", "zip tanpa tepat satu CSV")], field="file")
        inner = folder / (secure_filename(Path(members[0]).name) or "tabel.csv")
        with zipfile.ZipFile(path) as archive, archive.open(members[0]) as src, \
                open(inner, "wb") as dst:
            shutil.copyfileobj(src, dst)         # streamed; sizes were checked above
        return inner
    return path


def capped(problems: list[Problem], cap: int) -> tuple[list[Problem], int]:
    """The first ``cap`` problems (values shortened) and how many more there were."""
    kept = [p if p.value is None or len(p.value) <= VALUE_CHARS else
            Problem(p.row, p.field, p.reason, p.severity, p.value[:VALUE_CHARS] + "…")
            for p in problems[:cap]]
    return kept, max(0, len(problems) - cap)


def more_text(more: int) -> str:
    return f"dan {number(more)} masalah lain" if more else ""


def reports_dir(home: Path) -> Path:
    folder = home / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):          # rejection reports live one day
        if old.stat().st_mtime < time.time() - REPORT_DAYS * 86400:
            old.unlink(missing_ok=True)
    return folder


def store_report(home: Path, owner: int, problems: list[Problem], more: int) -> str:
    """A rejection report (already capped) as CSV for its owner; returns its token."""
    token = secrets.token_urlsafe(16)
    body = problem_csv(problems, more_text(more) + " (tidak dicantumkan)" if more else None)
    (reports_dir(home) / f"{owner}-{token}.csv").write_text(body, encoding="utf-8-sig")
    return token

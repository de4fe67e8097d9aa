"""Shared pieces of the importers' database side: what's loaded, staging, results."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, text

from gisdesk.errors import Problem
from gisdesk.indonesian import angka


@dataclass
class ImportResult:
    kind: str
    filename: str
    sha256: str
    counts: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> int:
        """Rows inserted or updated (``inserted``/``updated``, or per level such as
        ``kelurahan_inserted`` for boundaries)."""
        return sum(v for k, v in self.counts.items()
                   if k.endswith(("inserted", "updated")) and isinstance(v, int))

    def summary(self) -> str:
        """'kelurahan: 50 baru, 0 diperbarui; pasangan tumpang tindih: 60' (uji coba says so).

        Console text for people: Indonesian words and numbers (1.248); the count keys stay
        machine keys in ``counts`` and the import batch."""
        groups: dict[str, list[str]] = {}
        for key, value in self.counts.items():
            subject, _, what = key.rpartition("_")
            if what in _WORDS:
                groups.setdefault(subject or self.kind, []).append(
                    f"{angka(value)} {_WORDS[what]}")
            else:
                groups.setdefault(_LABELS.get(key, key.replace("_", " ")), []).append(
                    angka(value))
        text_ = "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items())
        head = f"{self.filename} ({self.kind})"
        if self.dry_run:
            return f"{head} [uji coba, tidak ada yang ditulis]: {text_}"
        return f"{head}: {text_}"


_WORDS = {"inserted": "baru", "updated": "diperbarui", "unchanged": "tidak berubah"}
_LABELS = {"overlapping_pairs": "pasangan tumpang tindih",
           "flagged_outside_own_kelurahan": "ditandai di luar kelurahannya"}


def known_kelurahan(conn: Connection) -> pd.DataFrame:
    rows = conn.execute(text("""
        SELECT k.kode, k.nama, c.nama AS kecamatan_nama, k.kecamatan_kode
        FROM kelurahan k JOIN kecamatan c ON c.kode = k.kecamatan_kode""")).all()
    return pd.DataFrame(rows, columns=["kode", "nama", "kecamatan_nama", "kecamatan_kode"])


def loaded_area(conn: Connection):
    """Union of the loaded kelurahan (shapely, EPSG:4326), or None when nothing is loaded."""
    wkb = conn.execute(text("SELECT ST_AsBinary(ST_Union(geom)) FROM kelurahan")).scalar()
    return shapely.from_wkb(bytes(wkb)) if wkb else None


def upsert_counts(flags: list[bool | None]) -> dict:
    """From RETURNING (xmax = 0) of an INSERT ... ON CONFLICT DO UPDATE ... WHERE changed."""
    inserted = sum(1 for f in flags if f is True)
    updated = sum(1 for f in flags if f is False)
    return {"inserted": inserted, "updated": updated}


@contextmanager
def import_transaction(engine: Engine, dry_run: bool = False) -> Iterator[Connection]:
    """The one transaction of a file import: committed when the block ends (rolled back for
    a dry run), rolled back on any error or interruption, so nothing is ever half-written."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
        if dry_run:
            trans.rollback()
        else:
            trans.commit()

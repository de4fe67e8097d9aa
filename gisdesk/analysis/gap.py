"""Personnel gap = requirement - assigned, per kelurahan, kecamatan and city (Polri, Linmas).

A negative gap is a surplus. Personnel assigned to a TPS count toward its kelurahan;
reserves (Polsek per kecamatan, Polresta for the city) are reported, not part of the gap.
TNI is reported and counts toward Polri only when rules.tni_counts_as_polri is true.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from gisdesk.analysis.requirement import RequirementTable
from gisdesk.analysis.risk import kecamatan_of, kelurahan_of
from gisdesk.analysis.rules import Rules
from gisdesk.errors import InputRejected, Problem

AGENCIES = ("polri", "linmas", "tni")
TARGETS = ("tps", "kelurahan", "reserve")


@dataclass(frozen=True)
class Assignment:
    """Personnel assigned: ``count`` of ``agency`` (polri|linmas|tni) to a ``target``:
    'tps' (kode = tps_kode), 'kelurahan' (kode = kelurahan_kode) or 'reserve' (kode =
    kecamatan_kode for a Polsek reserve, None for the city reserve, Polresta)."""

    agency: str
    count: int
    target: str
    kode: str | None = None


@dataclass(frozen=True)
class GapTable:
    """Gaps at each level (DataFrames).

    kelurahan: kecamatan_kode, kelurahan_kode, n_tps, n_<kelas>...,
               polri_required, polri_assigned, polri_gap,
               linmas_required, linmas_assigned, linmas_gap, tni_assigned
    kecamatan: the same sums over its kelurahan, plus polri_short / linmas_short (sum of the
               positive kelurahan gaps, which a net sum hides) and polri_reserve /
               linmas_reserve / tni_reserve (its Polsek reserve)
    city:      one row, sums over kelurahan, plus *_short, *_reserve_polsek (all Polsek
               reserves) and *_reserve_polresta (the city reserve)
    reserves:  kecamatan_kode (None for Polresta), polri, linmas, tni
    """

    classes: tuple[str, ...]
    kelurahan: pd.DataFrame
    kecamatan: pd.DataFrame
    city: pd.DataFrame
    reserves: pd.DataFrame


def _assignments_frame(assignments: Iterable[Assignment] | pd.DataFrame) -> pd.DataFrame:
    if isinstance(assignments, pd.DataFrame):
        frame = assignments.reindex(columns=["agency", "count", "target", "kode"])
    else:
        frame = pd.DataFrame([(a.agency, a.count, a.target, a.kode) for a in assignments],
                             columns=["agency", "count", "target", "kode"])
    frame = frame.astype({"agency": "str", "target": "str"})
    frame["agency"] = frame["agency"].str.strip().str.lower()
    frame["target"] = frame["target"].str.strip().str.lower()
    problems = []
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        if row.agency not in AGENCIES:
            problems.append(Problem(i, "agency", f"instansi tidak dikenal: {row.agency!r}"))
        if row.target not in TARGETS:
            problems.append(Problem(i, "target", f"sasaran tidak dikenal: {row.target!r}"))
        elif row.target != "reserve" and (row.kode is None or pd.isna(row.kode)):
            problems.append(Problem(i, "kode", f"kode {row.target} wajib diisi"))
        if (isinstance(row.count, bool) or pd.isna(row.count) or row.count < 0
                or int(row.count) != row.count):
            problems.append(Problem(i, "count", f"jumlah tidak sah: {row.count!r}"))
    if problems:
        raise InputRejected("penugasan personel tidak sah", problems)
    frame["count"] = frame["count"].astype("int64")
    return frame


def gaps(req: RequirementTable, assignments: Iterable[Assignment] | pd.DataFrame,
         rules: Rules | None = None) -> GapTable:
    """Gap table from a requirement and the personnel assignments (objects, or a DataFrame
    with columns agency, count, target, kode)."""
    tni_as_polri = bool(rules and rules.tni_counts_as_polri)
    frame = _assignments_frame(assignments)
    placed = frame[frame["target"] != "reserve"].copy()
    placed["kelurahan_kode"] = [kelurahan_of(k) if t == "tps" else k
                                for t, k in zip(placed["target"], placed["kode"])]
    assigned = (placed.pivot_table(index="kelurahan_kode", columns="agency", values="count",
                                   aggfunc="sum", fill_value=0)
                .reindex(columns=list(AGENCIES), fill_value=0)
                if not placed.empty else
                pd.DataFrame(columns=list(AGENCIES), dtype="int64",
                             index=pd.Index([], name="kelurahan_kode", dtype="str")))
    assigned.columns = [f"{a}_assigned" for a in AGENCIES]

    kel = req.kelurahan.rename(columns={"polri": "polri_required",
                                        "linmas": "linmas_required"})
    kel = kel.merge(assigned.reset_index(), on="kelurahan_kode", how="outer")
    missing = kel["kecamatan_kode"].isna()
    kel.loc[missing, "kecamatan_kode"] = kel.loc[missing, "kelurahan_kode"].map(kecamatan_of)
    numeric = [c for c in kel.columns if c not in ("kecamatan_kode", "kelurahan_kode")]
    kel[numeric] = kel[numeric].fillna(0).astype("int64")
    if tni_as_polri:
        kel["polri_assigned"] += kel["tni_assigned"]
    for agency in ("polri", "linmas"):
        kel[f"{agency}_gap"] = kel[f"{agency}_required"] - kel[f"{agency}_assigned"]
    n_cols = ["n_tps", *[f"n_{k}" for k in req.classes]]
    kel = kel[["kecamatan_kode", "kelurahan_kode", *n_cols,
               "polri_required", "polri_assigned", "polri_gap",
               "linmas_required", "linmas_assigned", "linmas_gap", "tni_assigned"]]
    kel = kel.sort_values("kelurahan_kode", ignore_index=True)

    reserves = _reserves(frame, tni_as_polri)
    numeric = kel.columns[2:].tolist()
    short = kel.assign(polri_short=kel["polri_gap"].clip(lower=0),
                       linmas_short=kel["linmas_gap"].clip(lower=0))
    numeric += ["polri_short", "linmas_short"]
    kec = short.groupby("kecamatan_kode", sort=True)[numeric].sum()
    polsek = (reserves.dropna(subset=["kecamatan_kode"]).set_index("kecamatan_kode")
              .rename(columns=lambda a: f"{a}_reserve"))
    kec = kec.join(polsek, how="outer").fillna(0).astype("int64").reset_index()

    city = {c: int(short[c].sum()) for c in numeric}
    polresta = reserves[reserves["kecamatan_kode"].isna()]
    for a in AGENCIES:
        city[f"{a}_reserve_polsek"] = int(polsek[f"{a}_reserve"].sum())
        city[f"{a}_reserve_polresta"] = int(polresta[a].sum())
    return GapTable(req.classes, kel, kec, pd.DataFrame([city]), reserves)


def _reserves(frame: pd.DataFrame, tni_as_polri: bool) -> pd.DataFrame:
    res = frame[frame["target"] == "reserve"].copy()
    res["kecamatan_kode"] = res["kode"].where(res["kode"].notna(), None)
    rows = []
    for kec, group in res.groupby("kecamatan_kode", dropna=False, sort=True):
        sums = group.groupby("agency")["count"].sum()
        row = {"kecamatan_kode": None if pd.isna(kec) else kec}
        row.update({a: int(sums.get(a, 0)) for a in AGENCIES})
        if tni_as_polri:
            row["polri"] += row["tni"]
        rows.append(row)
    return pd.DataFrame(rows, columns=["kecamatan_kode", *AGENCIES])

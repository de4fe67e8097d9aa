"""Personnel required by the security pattern: per kelurahan and class, summed up to the city.

Pattern a-b-c per kelurahan and class with n TPS: Polri = a * ceil(n / b), Linmas =
ceil(c * n / b). Kecamatan and city are sums of kelurahan, never recomputed from summed n.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from gisdesk.analysis.risk import TpsRisk
from gisdesk.analysis.rules import Pattern, PatternSet
from gisdesk.errors import InputRejected


def polri_for(n: int, p: Pattern) -> int:
    """a * ceil(n / b), in integers."""
    return p.polri * -(-n // p.tps)


def linmas_for(n: int, p: Pattern) -> int:
    """ceil(c * n / b), in integers."""
    return -(-(p.linmas * n) // p.tps)


@dataclass(frozen=True)
class RequirementTable:
    """Requirement at each level, all as DataFrames.

    by_class:  kecamatan_kode, kelurahan_kode, kelas, n_tps, pola, polri, linmas
    kelurahan: kecamatan_kode, kelurahan_kode, n_tps, n_<kelas>..., polri, linmas
    kecamatan: kecamatan_kode, n_tps, n_<kelas>..., polri, linmas (sums of kelurahan)
    city:      one row: n_tps, n_<kelas>..., polri, linmas (sums of kelurahan)
    """

    pattern_set: PatternSet
    classes: tuple[str, ...]
    by_class: pd.DataFrame
    kelurahan: pd.DataFrame
    kecamatan: pd.DataFrame
    city: pd.DataFrame


def class_counts(tps_risks: Iterable[TpsRisk]) -> pd.DataFrame:
    """Number of TPS per kelurahan and effective class (the shape SQL would return)."""
    frame = pd.DataFrame(
        [(r.kecamatan_kode, r.kelurahan_kode, r.kelas) for r in tps_risks],
        columns=["kecamatan_kode", "kelurahan_kode", "kelas"])
    return (frame.groupby(["kecamatan_kode", "kelurahan_kode", "kelas"], sort=True)
            .size().rename("n_tps").reset_index())


def requirement(tps_risks: Iterable[TpsRisk] | pd.DataFrame,
                pattern_set: PatternSet) -> RequirementTable:
    """Requirement from TpsRisk objects, or from a counts frame with columns
    kecamatan_kode, kelurahan_kode, kelas, n_tps (one row per kelurahan and class)."""
    counts = tps_risks if isinstance(tps_risks, pd.DataFrame) else class_counts(tps_risks)
    classes = tuple(pattern_set.patterns)
    unknown = sorted(set(counts["kelas"]) - set(classes))
    if unknown:
        pattern_set.pattern(unknown[0])          # raises ConfigError naming the class
    if (counts["n_tps"] < 0).any():
        raise InputRejected("jumlah TPS negatif", field="n_tps")
    # One row per kelurahan and class before rounding: ceil of a sum, not a sum of ceils.
    by_class = (counts.groupby(["kecamatan_kode", "kelurahan_kode", "kelas"], sort=True)
                ["n_tps"].sum().astype("int64").reset_index())
    a = by_class["kelas"].map({k: p.polri for k, p in pattern_set.patterns.items()})
    b = by_class["kelas"].map({k: p.tps for k, p in pattern_set.patterns.items()})
    c = by_class["kelas"].map({k: p.linmas for k, p in pattern_set.patterns.items()})
    n = by_class["n_tps"]
    by_class["pola"] = by_class["kelas"].map({k: str(p) for k, p in pattern_set.patterns.items()})
    by_class["polri"] = (a * -(-n // b)).astype("int64")        # a * ceil(n / b)
    by_class["linmas"] = (-(-(c * n) // b)).astype("int64")     # ceil(c * n / b)

    key = ["kecamatan_kode", "kelurahan_kode"]
    n_cols = [f"n_{k}" for k in classes]
    columns = [*key, "n_tps", *n_cols, "polri", "linmas"]
    if by_class.empty:
        kel = pd.DataFrame({c: pd.Series(dtype="str" if c in key else "int64")
                            for c in columns})
    else:
        wide = (by_class.pivot_table(index=key, columns="kelas", values="n_tps",
                                     aggfunc="sum", fill_value=0)
                .reindex(columns=list(classes), fill_value=0))
        wide.columns = n_cols
        sums = by_class.groupby(key)[["n_tps", "polri", "linmas"]].sum()
        kel = sums.join(wide).reset_index()[columns]
        kel = kel.astype({c: "int64" for c in columns[2:]})
    numeric = [c for c in kel.columns if c not in ("kecamatan_kode", "kelurahan_kode")]
    kec = kel.groupby("kecamatan_kode", sort=True)[numeric].sum().reset_index()
    city = pd.DataFrame([{c: int(kel[c].sum()) for c in numeric}])
    return RequirementTable(pattern_set, classes, by_class.reset_index(drop=True),
                            kel, kec, city)

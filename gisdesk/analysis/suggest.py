"""Suggestions: which kelurahan need how many more Polri/Linmas, from where, and why.

Greedy and deterministic: kelurahan with the largest gap first (ties by code) take from the
donors in rules.suggest_order (default: surplus kelurahan of the same kecamatan nearest
first, other kelurahan nearest first, the Polsek reserve, the Polresta reserve). A donor
gives at most its surplus (never left short) and every person is moved once at most.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import pandas as pd

from gisdesk.analysis.gap import GapTable
from gisdesk.analysis.risk import TpsRisk
from gisdesk.indonesian import angka
from gisdesk.analysis.rules import Rules

AGENCY_LABEL = {"polri": "Polri", "linmas": "Linmas"}
SHORT = "tidak_tercukupi"


@dataclass(frozen=True)
class KelurahanFacts:
    """What the reasons say about one kelurahan's TPS: counted incidents near them (each
    incident once), TPS raised a class, TPS whose sources disagree."""

    kelurahan_kode: str
    n_incidents: int = 0
    n_escalated: int = 0
    n_disagree: int = 0


@dataclass(frozen=True)
class SuggestContext:
    """Optional facts for the reasons: effective classes and incidents (tps_risks, or the
    same already summed per kelurahan in ``kelurahan``) and the number of not-ready TPS per
    kelurahan (kelurahan_kode -> n)."""

    tps_risks: Sequence[TpsRisk] = ()
    not_ready: Mapping[str, int] = field(default_factory=dict)
    kelurahan: Sequence[KelurahanFacts] = ()


@dataclass(frozen=True)
class Move:
    """``count`` people from one donor. ``source``: kelurahan | polsek_reserve |
    polresta_reserve | tidak_tercukupi (nobody left to move); ``kode`` is the donor kelurahan,
    the Polsek's kecamatan, or None."""

    source: str
    kode: str | None
    count: int
    distance_m: float | None = None
    same_kecamatan: bool | None = None


@dataclass(frozen=True)
class Suggestion:
    """Extra ``agency`` personnel for one kelurahan."""

    kelurahan_kode: str
    kecamatan_kode: str
    agency: str                    # polri | linmas
    required: int
    assigned: int
    gap: int                       # required - assigned (> 0)
    moves: tuple[Move, ...]
    reasons: tuple[str, ...]

    @property
    def unfilled(self) -> int:
        return sum(m.count for m in self.moves if m.source == SHORT)

    def summary(self, names: Mapping[str, str] | None = None) -> str:
        """'Tambah 4 Polri: 1 Polri dari surplus ..., 3 Polri dari cadangan Polsek ...'."""
        moves = "; ".join(move_text(m, self.agency, names or {}) for m in self.moves)
        return f"Tambah {self.gap} {AGENCY_LABEL[self.agency]}: {moves}"

    def to_rows(self, names: Mapping[str, str] | None = None) -> list[dict]:
        """One row per move, for CSV and tables."""
        names = names or {}
        return [{
            "kelurahan_kode": self.kelurahan_kode,
            "kelurahan": names.get(self.kelurahan_kode, ""),
            "kecamatan_kode": self.kecamatan_kode, "agency": self.agency,
            "required": self.required, "assigned": self.assigned, "gap": self.gap,
            "from": m.source, "from_kode": m.kode or "",
            "from_nama": names.get(m.kode, "") if m.kode else "",
            "count": m.count, "distance_m": m.distance_m,
            "move": move_text(m, self.agency, names), "reasons": "; ".join(self.reasons),
        } for m in self.moves]


def to_rows(suggestions: Iterable[Suggestion], names: Mapping[str, str] | None = None
            ) -> list[dict]:
    return [row for s in suggestions for row in s.to_rows(names)]


def suggestions_frame(suggestions: Iterable[Suggestion],
                      names: Mapping[str, str] | None = None) -> pd.DataFrame:
    cols = ["kelurahan_kode", "kelurahan", "kecamatan_kode", "agency", "required", "assigned",
            "gap", "from", "from_kode", "from_nama", "count", "distance_m", "move", "reasons"]
    return pd.DataFrame(to_rows(suggestions, names), columns=cols)


def distance_lookup(distances) -> dict[tuple[str, str], float]:
    """{(from, to): metres} from a mapping, an iterable of triples or a DataFrame whose
    first three columns are from, to, metres. Distances are taken as symmetric."""
    if distances is None:
        return {}
    if isinstance(distances, pd.DataFrame):
        triples = distances.iloc[:, :3].itertuples(index=False, name=None)
    elif isinstance(distances, Mapping):
        triples = ((a, b, m) for (a, b), m in distances.items())
    else:
        triples = distances
    out: dict[tuple[str, str], float] = {}
    for a, b, m in triples:
        out[(a, b)] = float(m)
        out.setdefault((b, a), float(m))
    return out


def _class_reason(row: Mapping, by_rank: Sequence[tuple[str, str]]) -> str | None:
    """'1 TPS sangat rawan, 3 rawan, 10 kurang rawan' (``by_rank``: (column, label) of each
    class, highest first)."""
    parts = [f"{int(row.get(col, 0))} {label}" for col, label in by_rank if row.get(col, 0)]
    if not parts:
        return None
    n, label = parts[0].split(" ", 1)
    return ", ".join([f"{n} TPS {label}", *parts[1:]])


def kelurahan_facts(tps_risks: Iterable[TpsRisk]) -> dict[str, KelurahanFacts]:
    """The per-TPS facts summed per kelurahan (an incident near several TPS is one incident)."""
    incidents: dict[str, set[str]] = {}
    escalated: dict[str, int] = {}
    disagree: dict[str, int] = {}
    for r in tps_risks:
        incidents.setdefault(r.kelurahan_kode, set()).update(r.incident_ids)
        escalated[r.kelurahan_kode] = escalated.get(r.kelurahan_kode, 0) + r.escalated
        disagree[r.kelurahan_kode] = disagree.get(r.kelurahan_kode, 0) + r.disagree
    return {k: KelurahanFacts(k, len(ids), escalated[k], disagree[k])
            for k, ids in incidents.items()}


def _context_reasons(context: SuggestContext) -> dict[str, list[str]]:
    facts = kelurahan_facts(context.tps_risks)
    facts.update({f.kelurahan_kode: f for f in context.kelurahan})
    out: dict[str, list[str]] = {}
    for kel, f in facts.items():
        if f.n_incidents:
            out.setdefault(kel, []).append(
                f"{f.n_incidents} kejadian terverifikasi baru di dekat TPS"
                + (f" ({f.n_escalated} TPS naik kelas)" if f.n_escalated else ""))
    for kel, f in facts.items():
        if f.n_disagree:
            out.setdefault(kel, []).append(f"{f.n_disagree} TPS dinilai berbeda oleh sumber")
    for kel, n in context.not_ready.items():
        if n:
            out.setdefault(kel, []).append(f"{n} TPS belum siap")
    return out


def move_text(m: Move, agency: str, names: Mapping[str, str]) -> str:
    who = AGENCY_LABEL[agency]
    if m.source == SHORT:
        return f"Tidak tercukupi: masih kurang {m.count} {who}"
    if m.source == "polresta_reserve":
        return f"{m.count} {who} dari cadangan Polresta"
    if m.source == "polsek_reserve":
        return f"{m.count} {who} dari cadangan Polsek {names.get(m.kode, m.kode)}"
    where = names.get(m.kode, m.kode)
    dist = f"{angka(m.distance_m)} m" if m.distance_m is not None else "jarak tidak diketahui"
    kec = "kecamatan sama" if m.same_kecamatan else "kecamatan lain"
    return f"{m.count} {who} dari surplus {where} ({dist}, {kec})"


class NearestDonors(dict):
    """kelurahan_kode -> its donors' (metres, kode), nearest first: the lists a caller found
    itself (e.g. by KNN), used as they are instead of being built from pairs."""


def suggest(gap_table: GapTable, distances, rules: Rules,
            context: SuggestContext | None = None, *,
            ran_out: set[str] | None = None) -> list[Suggestion]:
    """Suggestions for every kelurahan short of Polri, then of Linmas.

    ``distances``: kelurahan-to-kelurahan metres (a mapping, triples or a DataFrame, see
    distance_lookup; or NearestDonors), computed by the caller. Each short kelurahan walks its
    own donors with a known distance (sorted once: nearest, then code), then those without one
    in code order (none when rules.max_distance_m is set); so it scales to national size.
    Reserves come from gap_table.reserves. ``ran_out``, when given, receives the kelurahan
    that walked to the end of their known donors still short while other donors still had
    surplus (a caller that gave only the nearest few may widen those and ask again).
    """
    context = context or SuggestContext()
    near = distances if isinstance(distances, NearestDonors) else _nearest_first(distances)
    rows = [{k: (int(v) if k.endswith(_NUMERIC) else v) for k, v in r.items()}
            for r in gap_table.kelurahan.to_dict("records")]
    return suggest_rows(rows, gap_table.classes, gap_table.reserves.to_dict("records"), near,
                        rules, context, ran_out=ran_out)


def suggest_rows(rows: Sequence[Mapping], classes: Sequence[str], reserves: Sequence[Mapping],
                 near: Mapping[str, list[tuple[float, str]]], rules: Rules,
                 context: SuggestContext, *,
                 ran_out: set[str] | None = None) -> list[Suggestion]:
    """``suggest`` over plain rows (the kelurahan part of a GapTable as dicts with int
    numbers, its reserves as dicts, each kelurahan's donors nearest first): what a caller
    with many kab/kota uses without building frames."""
    extra = _context_reasons(context)
    kec_of = {r["kelurahan_kode"]: r["kecamatan_kode"] for r in rows}
    by_rank = [(f"n_{k}", rules.label(k))                     # once, not per row
               for k in sorted(classes, key=rules.rank, reverse=True)]
    out: list[Suggestion] = []
    for agency in ("polri", "linmas"):
        pool = _Pool(rows, reserves, agency, ran_out)
        short = sorted((r for r in rows if r[f"{agency}_gap"] > 0),
                       key=lambda r: (-r[f"{agency}_gap"], r["kelurahan_kode"]))
        for row in short:
            code, need = row["kelurahan_kode"], row[f"{agency}_gap"]
            moves = pool.take(code, row["kecamatan_kode"], need, near.get(code, []), kec_of,
                              rules)
            required, assigned = row[f"{agency}_required"], row[f"{agency}_assigned"]
            reasons = [f"butuh {required} {AGENCY_LABEL[agency]}, ada {assigned}"]
            cls = _class_reason(row, by_rank)
            if cls:
                reasons.append(cls)
            reasons += extra.get(code, [])
            out.append(Suggestion(code, row["kecamatan_kode"], agency, required, assigned,
                                  need, tuple(moves), tuple(reasons)))
    return out


_NUMERIC = ("_gap", "_required", "_assigned", "n_tps")


def _nearest_first(distances) -> dict[str, list[tuple[float, str]]]:
    """Each kelurahan's known distances, nearest first (ties by code)."""
    known: dict[str, list[tuple[float, str]]] = {}
    for (a, b), m in distance_lookup(distances).items():
        if a < b:
            known.setdefault(a, []).append((float(m), b))
            known.setdefault(b, []).append((float(m), a))
    for lst in known.values():
        lst.sort()
    return known


class _Pool:
    """What one agency can still give: each donor kelurahan's surplus (never more, so no
    donor is left short), each Polsek's reserve and the Polresta reserve. Every person is
    moved once at most."""

    def __init__(self, rows: list[dict], reserves: list[dict], agency: str,
                 ran_out: set[str] | None = None):
        self.ran_out = ran_out if ran_out is not None else set()
        self.surplus = {r["kelurahan_kode"]: -r[f"{agency}_gap"] for r in rows
                        if r[f"{agency}_gap"] < 0}
        self.by_code = sorted(self.surplus)
        self._left_by: dict[tuple, list[str]] = {}     # (kecamatan, same) -> donors left
        self.polsek = {r["kecamatan_kode"]: int(r[agency]) for r in reserves
                       if not pd.isna(r["kecamatan_kode"]) and r[agency] > 0}
        self.polresta = sum(int(r[agency]) for r in reserves if pd.isna(r["kecamatan_kode"]))

    def take(self, code: str, kec: str, need: int, near: list[tuple[float, str]],
             kec_of: Mapping[str, str], rules: Rules) -> list[Move]:
        """The moves that fill ``need`` in rules.suggest_order, and what is left unfilled."""
        moves: list[Move] = []
        for step in rules.suggest_order:
            if need == 0:
                break
            if step.startswith("kelurahan_"):
                need = self._from_kelurahan(code, kec, need, near, kec_of, rules,
                                            step == "kelurahan_same_kecamatan", moves)
            elif step == "polsek_reserve":
                take = min(need, self.polsek.get(kec, 0))
                if take:
                    self.polsek[kec] -= take
                    need -= take
                    moves.append(Move("polsek_reserve", kec, take))
            elif step == "polresta_reserve":
                take = min(need, self.polresta)
                if take:
                    self.polresta -= take
                    need -= take
                    moves.append(Move("polresta_reserve", None, take))
        if need:
            moves.append(Move(SHORT, None, need))
        return moves

    def _from_kelurahan(self, code, kec, need, near, kec_of, rules, same, moves) -> int:
        """Surplus kelurahan of the same (or another) kecamatan: nearest first, then (without
        a distance limit) those with no known distance in code order."""
        limit = rules.max_distance_m
        for d, donor in near:
            if limit and d > limit:
                break
            need = self._give(donor, need, (kec_of.get(donor) == kec) == same, moves, d, same)
            if need == 0:
                return 0
        else:
            # every eligible donor of the list gave all it had: only donors outside it that
            # still have surplus could change this walk (a longer list, or code order)
            rest = self._left(kec, kec_of, same)
            if rest:
                self.ran_out.add(code)
            if not limit:
                for donor in rest:
                    need = self._give(donor, need, True, moves, None, same)
                    if need == 0:
                        return 0
        return need

    def _left(self, kec, kec_of, same) -> list[str]:
        """Donors (code order) with surplus left, of the same kecamatan or of another; kept
        until a donor is spent (_give forgets them), as many walks in a row find the same."""
        key = (kec, same)
        if key not in self._left_by:
            if not self._left_by:
                self.by_code = [d for d in self.by_code if self.surplus[d] > 0]  # spent stay spent
            self._left_by[key] = [d for d in self.by_code if (kec_of.get(d) == kec) == same]
        return self._left_by[key]

    def _give(self, donor, need, eligible, moves, distance, same) -> int:
        left = self.surplus.get(donor, 0)
        if not eligible or left <= 0:
            return need
        take = min(need, left)
        self.surplus[donor] -= take
        if take == left:
            self._left_by.clear()
        moves.append(Move("kelurahan", donor, take, distance, same))
        return need - take

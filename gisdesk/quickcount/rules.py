"""Sanity rules for one TPS result (C.Hasil numbers): pure functions, no database.

The rules (DOMAIN.md, "Result reports"): candidate votes sum to valid votes; valid + invalid =
ballots used; ballots used <= DPT + DPTb + DPK; no negative numbers; nothing above the TPS
capacity (the election's maximum voters per TPS plus an allowance for DPTb/DPK voters, set
in ``QuickCountRules``). A rejected entry names the field of every problem.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from typing import Any, Iterable, Mapping

from gisdesk.errors import ConfigError, InputRejected, Problem

NUMBER_FIELDS = ("valid", "invalid", "ballots_used", "dpt", "dptb", "dpk")
OPTIONAL_ZERO = ("dptb", "dpk")  # may be left out: no DPTb/DPK voters at this TPS
FIELD_LABELS = {
    "votes": "suara calon", "valid": "suara sah", "invalid": "suara tidak sah",
    "ballots_used": "surat suara digunakan", "dpt": "DPT", "dptb": "DPTb", "dpk": "DPK",
}


@dataclass(frozen=True)
class QuickCountRules:
    """How much a TPS may hold above the election's ``max_voters_per_tps``.

    Ballots are printed for DPT + 2.5 % (the reserve serves DPTb/DPK voters), so by default
    capacity = max voters + ceil(2.5 % of max voters) + ``capacity_allowance_abs``.
    Configure with the app setting ``QUICKCOUNT_RULES`` (a mapping of these fields).
    """

    capacity_allowance_pct: float = 2.5
    capacity_allowance_abs: int = 0

    def capacity(self, max_voters_per_tps: int) -> int:
        return (max_voters_per_tps + math.ceil(max_voters_per_tps * self.capacity_allowance_pct
                                               / 100) + self.capacity_allowance_abs)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> QuickCountRules:
        known = {f.name: f.type for f in fields(cls)}
        values = {}
        for key, value in (data or {}).items():
            if key not in known:
                raise ConfigError(f"QUICKCOUNT_RULES.{key}: kunci tidak dikenal "
                                  f"(pilihan: {', '.join(known)})", field=f"QUICKCOUNT_RULES.{key}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"QUICKCOUNT_RULES.{key}: harus angka >= 0",
                                  field=f"QUICKCOUNT_RULES.{key}")
            values[key] = int(value) if key == "capacity_allowance_abs" else float(value)
        return cls(**values)


@dataclass(frozen=True)
class ResultNumbers:
    """The numbers of one C.Hasil form; ``votes`` maps candidate nomor -> votes."""

    votes: Mapping[int, int]
    valid: int
    invalid: int
    ballots_used: int
    dpt: int
    dptb: int = 0
    dpk: int = 0

    def comparable(self) -> dict[str, int]:
        """Flat field -> value, the way two agencies' entries are compared."""
        flat = {f"votes.{n}": v for n, v in sorted(self.votes.items())}
        flat.update({name: getattr(self, name) for name in NUMBER_FIELDS})
        return flat

    def as_json(self) -> dict:
        return {"votes": {str(n): v for n, v in sorted(self.votes.items())},
                **{name: getattr(self, name) for name in NUMBER_FIELDS}}


def _integer(value: Any) -> int | None:
    """An int from JSON or a form ('12' accepted); None when it is not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # ASCII digits only: str.isdigit() also says yes to "²" and "٣", which int() refuses
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value.strip()):
        return int(value.strip())
    return None


def _parse_number(payload: Mapping, name: str, problems: list[Problem]) -> int | None:
    raw = payload.get(name)
    if raw in (None, "") and name in OPTIONAL_ZERO:
        return 0
    label = FIELD_LABELS[name]
    if raw in (None, ""):
        problems.append(Problem(None, name, f"{label} wajib diisi"))
        return None
    value = _integer(raw)
    if value is None:
        problems.append(Problem(None, name, f"{label} harus bilangan bulat", value=str(raw)))
    elif value < 0:
        problems.append(Problem(None, name, f"{label} tidak boleh negatif", value=str(value)))
        return None
    return value


def _parse_votes(raw: Any, candidates: Iterable[int], problems: list[Problem]) -> dict[int, int]:
    nomors = sorted(candidates)
    if not isinstance(raw, Mapping):
        problems.append(Problem(None, "votes", "suara calon harus berupa daftar {nomor urut: "
                                               "suara}, satu untuk setiap calon"))
        return {}
    votes: dict[int, int] = {}
    for key, value in raw.items():
        nomor = _integer(key)
        if nomor is None or nomor not in nomors:
            problems.append(Problem(None, f"votes.{key}", f"nomor urut {key} bukan calon "
                                    f"pada pemilihan ini (calon: {', '.join(map(str, nomors))})"))
            continue
        count = _integer(value)
        if count is None:
            problems.append(Problem(None, f"votes.{nomor}", f"suara calon {nomor} harus "
                                    "bilangan bulat", value=str(value)))
        elif count < 0:
            problems.append(Problem(None, f"votes.{nomor}", f"suara calon {nomor} tidak boleh "
                                    "negatif", value=str(count)))
        else:
            votes[nomor] = count
    for nomor in nomors:
        if nomor not in votes and not any(p.field == f"votes.{nomor}" for p in problems):
            problems.append(Problem(None, f"votes.{nomor}", f"suara calon {nomor} wajib diisi "
                                    "(isi 0 bila tidak ada suara)"))
    return votes


def check_arithmetic(n: ResultNumbers, capacity: int) -> list[Problem]:
    """The tally rules on numbers that are each whole and non-negative."""
    problems = []
    for field, value in [*((f"votes.{k}", v) for k, v in sorted(n.votes.items())),
                         *((name, getattr(n, name)) for name in NUMBER_FIELDS)]:
        if value > capacity:
            label = FIELD_LABELS.get(field, f"suara calon {field[6:]}")
            problems.append(Problem(None, field, f"{label} ({value}) melebihi kapasitas TPS "
                                    f"({capacity} pemilih)", value=str(value)))
    total = sum(n.votes.values())
    if total != n.valid:
        problems.append(Problem(None, "votes", f"jumlah suara calon ({total}) harus sama dengan "
                                f"suara sah ({n.valid})", value=str(total)))
    if n.valid + n.invalid != n.ballots_used:
        problems.append(Problem(None, "ballots_used", f"suara sah + tidak sah ({n.valid} + "
                                f"{n.invalid} = {n.valid + n.invalid}) harus sama dengan surat "
                                f"suara digunakan ({n.ballots_used})", value=str(n.ballots_used)))
    registered = n.dpt + n.dptb + n.dpk
    if n.ballots_used > registered:
        problems.append(Problem(None, "ballots_used", f"surat suara digunakan ({n.ballots_used})"
                                f" melebihi DPT + DPTb + DPK ({registered})",
                                value=str(n.ballots_used)))
    return problems


def validate_numbers(payload: Mapping, candidates: Iterable[int], capacity: int) -> ResultNumbers:
    """Parse and check the numbers of ``payload``; InputRejected naming every bad field."""
    problems: list[Problem] = []
    votes = _parse_votes(payload.get("votes"), candidates, problems)
    values = {name: _parse_number(payload, name, problems) for name in NUMBER_FIELDS}
    if not problems:
        numbers = ResultNumbers(votes, **values)
        problems = check_arithmetic(numbers, capacity)
        if not problems:
            return numbers
    raise rejected(problems)


def rejected(problems: list[Problem]) -> InputRejected:
    first = problems[0]
    message = f"Laporan hasil ditolak: {first.reason}"
    if len(problems) > 1:
        message += f" (dan {len(problems) - 1} masalah lain)"
    return InputRejected(message, problems, field=first.field)

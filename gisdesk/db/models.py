"""The schema as typed SQLAlchemy models. Changes reach the database only through Alembic.

Core tables planners query with SQL keep their documented names and columns:
kecamatan(kode, nama, geom), kelurahan(kode, nama, kecamatan_kode, geom),
tps(kode, election_id, kelurahan_kode, nomor, dpt, alamat, geom).
"""
from __future__ import annotations

import datetime as dt
import uuid

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Computed, Date, DateTime, Float,
                        ForeignKey, Index, Integer, Sequence, SmallInteger, String, Text,
                        UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

KECAMATAN_RE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"
KELURAHAN_RE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[12][0-9]{3}$"
TPS_RE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[12][0-9]{3}-[0-9]{3}$"
CLASSES = ("kurang_rawan", "rawan", "sangat_rawan", "khusus")
SOURCES = ("polri", "kpu", "bawaslu")
ROLES = ("viewer", "planner", "desk_staff", "supervisor", "operator", "admin")
AGENCIES = ("polri", "linmas", "tni")
INCIDENT_STATUSES = ("reported", "verified", "resolved", "rejected", "merged")
SEVERITIES = ("ringan", "sedang", "berat")
READINESS_STATES = ("siap", "sebagian", "belum")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now():
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Base(DeclarativeBase):
    pass


class Election(Base):
    __tablename__ = "election"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode: Mapped[str] = mapped_column(String(40), unique=True)
    nama: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))
    voting_date: Mapped[dt.date] = mapped_column(Date)
    campaign_start: Mapped[dt.date | None] = mapped_column(Date)
    max_voters_per_tps: Mapped[int] = mapped_column(Integer)
    wilayah_kode: Mapped[str | None] = mapped_column(String(13))  # e.g. 52.71 (kab/kota)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # analysis time pinned for a demo or an exercise; None = evaluate at "now"
    pinned_as_of: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _now()
    __table_args__ = (
        CheckConstraint(_in("kind", ("pemilu", "pilkada")), name="election_kind"),
        CheckConstraint("max_voters_per_tps > 0", name="election_max_voters"),
        # at most one active election: the one the app works on
        Index("election_one_active", "active", unique=True, postgresql_where=text("active")),
    )


class Kecamatan(Base):
    __tablename__ = "kecamatan"
    kode: Mapped[str] = mapped_column(String(8), primary_key=True)
    nama: Mapped[str] = mapped_column(Text)
    kode_bps: Mapped[str | None] = mapped_column(String(10))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = _now()
    __table_args__ = (CheckConstraint(f"kode ~ '{KECAMATAN_RE}'", name="kecamatan_kode_format"),)


class Kelurahan(Base):
    __tablename__ = "kelurahan"
    kode: Mapped[str] = mapped_column(String(13), primary_key=True)
    nama: Mapped[str] = mapped_column(Text)
    kecamatan_kode: Mapped[str] = mapped_column(ForeignKey("kecamatan.kode"), index=True)
    kode_bps: Mapped[str | None] = mapped_column(String(10))
    area_km2: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    # the point the suggestion plan measures donor distances from, kept by the server
    pt = mapped_column(Geometry("POINT", srid=4326, spatial_index=False),
                       Computed("ST_PointOnSurface(geom)", persisted=True))
    source: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = _now()
    __table_args__ = (
        CheckConstraint(f"kode ~ '{KELURAHAN_RE}'", name="kelurahan_kode_format"),
        CheckConstraint("left(kode, 8) = kecamatan_kode", name="kelurahan_in_kecamatan"),
    )


class Tps(Base):
    __tablename__ = "tps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode: Mapped[str] = mapped_column(String(17))
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    kelurahan_kode: Mapped[str] = mapped_column(ForeignKey("kelurahan.kode"), index=True)
    nomor: Mapped[int] = mapped_column(SmallInteger)
    dpt: Mapped[int] = mapped_column(Integer)
    alamat: Mapped[str | None] = mapped_column(Text)
    lokasi_khusus: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # the kelurahan the point actually lies in, when it differs from the one its code names
    point_kelurahan_kode: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.kode"),
                                                             index=True)
    flags: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    updated_at: Mapped[dt.datetime] = _now()
    __table_args__ = (
        UniqueConstraint("election_id", "kode", name="tps_election_kode"),
        CheckConstraint(f"kode ~ '{TPS_RE}'", name="tps_kode_format"),
        CheckConstraint("kode = kelurahan_kode || '-' || lpad(nomor::text, 3, '0')",
                        name="tps_kode_matches"),
        CheckConstraint("nomor BETWEEN 1 AND 999", name="tps_nomor_range"),
        CheckConstraint("dpt >= 0", name="tps_dpt_nonnegative"),
        Index("tps_election", "election_id"),
    )


class TpsReadiness(Base):
    """Current readiness of a TPS; every change also goes to tps_readiness_history."""
    __tablename__ = "tps_readiness"
    tps_id: Mapped[int] = mapped_column(ForeignKey("tps.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    items: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = _now()
    updated_by: Mapped[str | None] = mapped_column(Text)
    # when the checklist was ticked on the device (NULL: not sent; updated_at stands for it)
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint(_in("state", READINESS_STATES), name="readiness_state"),)


class TpsReadinessHistory(Base):
    __tablename__ = "tps_readiness_history"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tps_id: Mapped[int] = mapped_column(ForeignKey("tps.id", ondelete="CASCADE"), index=True)
    client_uuid: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    state: Mapped[str] = mapped_column(String(10))
    items: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = _now()
    recorded_by: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint(_in("state", READINESS_STATES), name="readiness_hist_state"),)


class Facility(Base):
    __tablename__ = "facility"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    nama: Mapped[str] = mapped_column(Text)
    alamat: Mapped[str | None] = mapped_column(Text)
    kelurahan_kode: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.kode"), index=True)
    kecamatan_kode: Mapped[str | None] = mapped_column(ForeignKey("kecamatan.kode"))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        CheckConstraint(_in("kind", ("pps", "ppk", "kpu", "bawaslu", "puskesmas", "rumah_sakit",
                                     "polsek", "polresta", "pos_polisi", "koramil", "kodim",
                                     "damkar", "kantor_lurah", "kantor_camat", "posko",
                                     "lainnya")), name="facility_kind"),
        UniqueConstraint("kind", "nama", name="facility_kind_nama"),
    )


class Rating(Base):
    """A vulnerability rating from one source, for one TPS or one kelurahan (kept separate)."""
    __tablename__ = "rating"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(10))
    tps_id: Mapped[int | None] = mapped_column(ForeignKey("tps.id", ondelete="CASCADE"), index=True)
    kelurahan_kode: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.kode"), index=True)
    kelas: Mapped[str | None] = mapped_column(String(15))
    indicators: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    score: Mapped[float | None] = mapped_column(Float)
    rated_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)
    __table_args__ = (
        CheckConstraint(_in("source", SOURCES), name="rating_source"),
        CheckConstraint(f"kelas IS NULL OR {_in('kelas', CLASSES)}", name="rating_kelas"),
        CheckConstraint("(tps_id IS NULL) <> (kelurahan_kode IS NULL)", name="rating_one_target"),
        CheckConstraint("kelas IS NOT NULL OR jsonb_array_length(indicators) > 0 OR score IS NOT NULL",
                        name="rating_has_value"),
        Index("rating_election_source", "election_id", "source"),
        Index("rating_election_rated_on", "election_id", "rated_on"),    # time edges
    )


class Incident(Base):
    __tablename__ = "incident"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)  # client UUID
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, server_default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[dt.datetime] = _now()
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reporter_name: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), server_default="reported")
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    kelurahan_kode: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.kode"), index=True)
    tps_id: Mapped[int | None] = mapped_column(ForeignKey("tps.id"), index=True)
    tps_distance_m: Mapped[float | None] = mapped_column(Float)
    content_hash: Mapped[str] = mapped_column(String(64))
    warnings: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    merged_into: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incident.id"), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        CheckConstraint(_in("status", INCIDENT_STATUSES), name="incident_status"),
        CheckConstraint(_in("severity", SEVERITIES), name="incident_severity"),
        Index("incident_election_time", "election_id", "occurred_at"),
    )


class PersonnelAssignment(Base):
    """Personnel put on a TPS, a kelurahan, or in reserve (Polsek per kecamatan, Polresta city)."""
    __tablename__ = "personnel_assignment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(10))
    tps_id: Mapped[int | None] = mapped_column(ForeignKey("tps.id", ondelete="CASCADE"),
                                               index=True)
    kelurahan_kode: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.kode"), index=True)
    kecamatan_kode: Mapped[str | None] = mapped_column(ForeignKey("kecamatan.kode"))
    unit: Mapped[str | None] = mapped_column(Text)  # e.g. "Polsek Ampenan"
    count: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()
    created_by: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        CheckConstraint(_in("agency", AGENCIES), name="personnel_agency"),
        CheckConstraint(_in("target", ("tps", "kelurahan", "reserve")), name="personnel_target"),
        CheckConstraint("count >= 0", name="personnel_count_nonnegative"),
        CheckConstraint("(target = 'tps') = (tps_id IS NOT NULL)", name="personnel_tps_target"),
        CheckConstraint("target <> 'kelurahan' OR kelurahan_kode IS NOT NULL",
                        name="personnel_kelurahan_target"),
        Index("personnel_election", "election_id"),
        Index("personnel_reserve", "election_id", "kecamatan_kode",
              postgresql_where=text("target = 'reserve'")),
    )


class PersonnelMove(Base):
    """A move of personnel accepted from a suggestion: who moved what where, and when."""
    __tablename__ = "personnel_move"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(Integer)
    from_kelurahan_kode: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.kode"))
    from_reserve: Mapped[str | None] = mapped_column(Text)
    to_kelurahan_kode: Mapped[str] = mapped_column(ForeignKey("kelurahan.kode"))
    reason: Mapped[str | None] = mapped_column(Text)
    moved_at: Mapped[dt.datetime] = _now()
    moved_by: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (CheckConstraint("count > 0", name="move_count_positive"),
                      Index("ix_personnel_move_election", "election_id"))


class SecurityPatternSet(Base):
    """A version of the police TPS security pattern, in force from effective_from."""
    __tablename__ = "security_pattern_set"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int | None] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    nama: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _now()
    created_by: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("election_id", "effective_from", name="pattern_set_when"),)


class SecurityPattern(Base):
    """a-b-c: a Polri and c Linmas for every b TPS of a class."""
    __tablename__ = "security_pattern"
    set_id: Mapped[int] = mapped_column(ForeignKey("security_pattern_set.id", ondelete="CASCADE"),
                                        primary_key=True)
    kelas: Mapped[str] = mapped_column(String(15), primary_key=True)
    polri: Mapped[int] = mapped_column(SmallInteger)
    per_tps: Mapped[int] = mapped_column(SmallInteger)
    linmas: Mapped[int] = mapped_column(SmallInteger)
    __table_args__ = (
        CheckConstraint(_in("kelas", CLASSES), name="pattern_kelas"),
        CheckConstraint("polri >= 0 AND linmas >= 0 AND per_tps >= 1", name="pattern_numbers"),
    )


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(12))
    agency: Mapped[str | None] = mapped_column(String(20))
    kelurahan_kode: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.kode"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = _now()
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="users_role"),)


class UserSession(Base):
    """A login session: the signed cookie names it (by a random id, stored here as SHA-256);
    this row says whether it is still alive, for every worker process alike."""
    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    addr: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()
    last_seen_at: Mapped[dt.datetime] = _now()
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_reason: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """Personal API tokens: random, stored only as SHA-256 (cheap to check on every request)."""
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class RateLimitHit(Base):
    """Counters shared by every worker process (login attempts and the like)."""
    __tablename__ = "rate_limit_hit"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bucket: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = _now()
    __table_args__ = (Index("rate_limit_bucket_at", "bucket", "at"),)


class ImportBatch(Base):
    """One file import: what, by whom, the file's checksum and counts."""
    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    election_id: Mapped[int | None] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(Text)
    options: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    counts: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    imported_at: Mapped[dt.datetime] = _now()


class AuditLog(Base):
    """Append-only (enforced by a trigger); chained afterwards into ``audit_chain``."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = _now()
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    checksum: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (Index("audit_log_at", "at"),)


class AuditChain(Base):
    """The hash chain over audit entries, appended by the sequencer in the order it sees
    them committed (append-only by trigger; no foreign key, so a deleted entry leaves its
    link behind)."""
    __tablename__ = "audit_chain"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    chained_at: Mapped[dt.datetime] = _now()
    __table_args__ = (UniqueConstraint("entry_id", name="audit_chain_entry"),)


class AuditUnchained(Base):
    """Entries appended but not chained yet (a marker written by trigger with the entry)."""
    __tablename__ = "audit_unchained"
    entry_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = _now()


# --- analysis results: recomputed from the inputs above, read by map, tables, API, CLI ---

ANALYSIS_VERSION_SEQ = Sequence("analysis_version_seq", metadata=Base.metadata)


class AnalysisRun(Base):
    __tablename__ = "analysis_run"
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"),
                                             primary_key=True)
    as_of: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    pattern_set_id: Mapped[int | None] = mapped_column(ForeignKey("security_pattern_set.id"))
    computed_at: Mapped[dt.datetime] = _now()
    # grows with every stored result set (one sequence, so it never goes back)
    version: Mapped[int] = mapped_column(BigInteger, ANALYSIS_VERSION_SEQ,
                                         server_default=ANALYSIS_VERSION_SEQ.next_value())


class TpsRisk(Base):
    __tablename__ = "tps_risk"
    tps_id: Mapped[int] = mapped_column(ForeignKey("tps.id", ondelete="CASCADE"), primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"),
                                             index=True)
    kelas: Mapped[str] = mapped_column(String(15))
    kelas_polri: Mapped[str | None] = mapped_column(String(15))
    kelas_kpu: Mapped[str | None] = mapped_column(String(15))
    kelas_bawaslu: Mapped[str | None] = mapped_column(String(15))
    kelas_kelurahan: Mapped[str | None] = mapped_column(String(15))
    escalated: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    disagree: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    reasons: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    __table_args__ = (CheckConstraint(_in("kelas", CLASSES), name="tps_risk_kelas"),)


class KelurahanGap(Base):
    __tablename__ = "kelurahan_gap"
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"),
                                             primary_key=True)
    kelurahan_kode: Mapped[str] = mapped_column(ForeignKey("kelurahan.kode"), primary_key=True)
    kecamatan_kode: Mapped[str] = mapped_column(ForeignKey("kecamatan.kode"))
    n_tps: Mapped[int] = mapped_column(Integer)
    n_by_class: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    polri_required: Mapped[int] = mapped_column(Integer)
    linmas_required: Mapped[int] = mapped_column(Integer)
    polri_assigned: Mapped[int] = mapped_column(Integer)
    linmas_assigned: Mapped[int] = mapped_column(Integer)
    tni_assigned: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    polri_gap: Mapped[int] = mapped_column(Integer)
    linmas_gap: Mapped[int] = mapped_column(Integer)
    not_ready: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    incidents_recent: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    reasons: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # what a kab/kota re-plan needs for its reasons without recomputing the kelurahan
    n_escalated: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    n_disagree: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    __table_args__ = (Index("kelurahan_gap_largest", "election_id", text("polri_gap DESC"),
                            text("linmas_gap DESC"), "kelurahan_kode"),
                      Index("kelurahan_gap_kecamatan", "election_id", "kecamatan_kode"))


def _sum_column():
    return mapped_column(Integer, server_default=text("0"))


class _GapSums:
    """Sums over kelurahan_gap stored per kecamatan and per kab/kota with each results
    version (short = sum of positive kelurahan gaps, surplus = of negative ones; reserves are
    the Polsek reserves inside; TNI is reported as assigned only)."""

    n_by_class: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    n_kelurahan: Mapped[int] = _sum_column()
    kelurahan_short: Mapped[int] = _sum_column()
    n_tps: Mapped[int] = _sum_column()
    polri_required: Mapped[int] = _sum_column()
    polri_assigned: Mapped[int] = _sum_column()
    polri_gap: Mapped[int] = _sum_column()
    polri_short: Mapped[int] = _sum_column()
    polri_surplus: Mapped[int] = _sum_column()
    linmas_required: Mapped[int] = _sum_column()
    linmas_assigned: Mapped[int] = _sum_column()
    linmas_gap: Mapped[int] = _sum_column()
    linmas_short: Mapped[int] = _sum_column()
    linmas_surplus: Mapped[int] = _sum_column()
    tni_assigned: Mapped[int] = _sum_column()
    polri_reserve: Mapped[int] = _sum_column()
    linmas_reserve: Mapped[int] = _sum_column()
    tni_reserve: Mapped[int] = _sum_column()
    not_ready: Mapped[int] = _sum_column()
    incidents_recent: Mapped[int] = _sum_column()     # what low-zoom map tiles show


class KecamatanGap(_GapSums, Base):
    __tablename__ = "kecamatan_gap"
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"),
                                             primary_key=True)
    kecamatan_kode: Mapped[str] = mapped_column(ForeignKey("kecamatan.kode"), primary_key=True)
    kabkota_kode: Mapped[str] = mapped_column(String(5))


class KabkotaGap(_GapSums, Base):
    __tablename__ = "kabkota_gap"
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"),
                                             primary_key=True)
    kabkota_kode: Mapped[str] = mapped_column(String(5), primary_key=True)
    polri_reserve_polresta: Mapped[int] = _sum_column()
    linmas_reserve_polresta: Mapped[int] = _sum_column()
    tni_reserve_polresta: Mapped[int] = _sum_column()


class Suggestion(Base):
    __tablename__ = "suggestion"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"),
                                             index=True)
    # planned and ranked per kab/kota (the Polresta reserve is the kab/kota's)
    kabkota_kode: Mapped[str] = mapped_column(String(5))
    rank: Mapped[int] = mapped_column(Integer)
    kelurahan_kode: Mapped[str] = mapped_column(ForeignKey("kelurahan.kode"))
    agency: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(Integer)
    from_kind: Mapped[str] = mapped_column(String(20))  # kelurahan | polsek | polresta | unmet
    from_kelurahan_kode: Mapped[str | None] = mapped_column(ForeignKey("kelurahan.kode"))
    from_unit: Mapped[str | None] = mapped_column(Text)
    distance_m: Mapped[float | None] = mapped_column(Float)
    required: Mapped[int] = mapped_column(Integer)
    assigned: Mapped[int] = mapped_column(Integer)
    gap: Mapped[int] = mapped_column(Integer)
    move_text: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    __table_args__ = (Index("suggestion_kabkota_rank", "election_id", "kabkota_kode", "rank"),)


# --- internal quick count ---
# Internal and NOT official (official results are KPU's): visible only to supervisor/admin,
# and to each operator for its own agency's entries (enforced by the web edge).

QC_ENTRY_STATUSES = ("active", "superseded", "correction")
QC_FLAG_STATUSES = ("open", "resolved", "agreed")
_QC_NUMBERS = ("valid", "invalid", "ballots_used", "dpt", "dptb", "dpk")


class Contest(Base):
    """A contest of an election (e.g. 'ppwp' = presidential pairs)."""
    __tablename__ = "contest"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    kode: Mapped[str] = mapped_column(String(20))
    nama: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("election_id", "kode", name="contest_election_kode"),
        CheckConstraint("kode ~ '^[a-z0-9_]+$'", name="contest_kode_format"),
    )


class Candidate(Base):
    __tablename__ = "candidate"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    nomor: Mapped[int] = mapped_column(SmallInteger)
    nama: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("contest_id", "nomor", name="candidate_contest_nomor"),
        CheckConstraint("nomor >= 1", name="candidate_nomor_positive"),
    )


class ResultEntry(Base):
    """One agency's numbers for one TPS and contest (from the C.Hasil form); id = client UUID.

    ``votes`` maps candidate nomor (as text) to votes. A later entry of the same agency for
    the same TPS+contest supersedes the earlier one; supervisor corrections have status
    'correction'.
    """
    __tablename__ = "result_entry"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    tps_id: Mapped[int] = mapped_column(ForeignKey("tps.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(20))
    votes: Mapped[dict] = mapped_column(JSONB)
    valid: Mapped[int] = mapped_column(Integer)
    invalid: Mapped[int] = mapped_column(Integer)
    ballots_used: Mapped[int] = mapped_column(Integer)
    dpt: Mapped[int] = mapped_column(Integer)
    dptb: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    dpk: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    photo_path: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[dt.datetime] = _now()
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), server_default="active")
    __table_args__ = (
        CheckConstraint(" AND ".join(f"{c} >= 0" for c in _QC_NUMBERS),
                        name="result_entry_nonnegative"),
        CheckConstraint("valid + invalid = ballots_used", name="result_entry_ballots_sum"),
        CheckConstraint("jsonb_typeof(votes) = 'object' AND NOT jsonb_path_exists(votes, "
                        "'$.* ? (@.type() != \"number\" || @ < 0)')",
                        name="result_entry_votes_nonnegative"),
        CheckConstraint(_in("status", QC_ENTRY_STATUSES), name="result_entry_status"),
        # one current entry per agency, TPS and contest
        Index("result_entry_one_active", "tps_id", "contest_id", "agency", unique=True,
              postgresql_where=text("status = 'active'")),
        Index("result_entry_contest", "contest_id", "status"),
    )


class ResultFlag(Base):
    """Agencies disagree on a TPS+contest; a supervisor resolves it (history kept)."""
    __tablename__ = "result_flag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    tps_id: Mapped[int] = mapped_column(ForeignKey("tps.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), server_default="open")
    agencies: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    detail: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    raised_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()
    resolved_by: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(Text)
    chosen_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("result_entry.id"))
    __table_args__ = (
        UniqueConstraint("tps_id", "contest_id", name="result_flag_tps_contest"),
        CheckConstraint(_in("status", QC_FLAG_STATUSES), name="result_flag_status"),
        CheckConstraint("status <> 'resolved' OR (chosen_entry_id IS NOT NULL "
                        "AND resolved_by IS NOT NULL AND resolved_at IS NOT NULL)",
                        name="result_flag_resolved_complete"),
        Index("result_flag_contest_status", "contest_id", "status"),
    )


class ResultFlagHistory(Base):
    """Every change of a flag: raised, reopened, agreed, resolved (append-only by use)."""
    __tablename__ = "result_flag_history"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("result_flag.id", ondelete="CASCADE"),
                                         index=True)
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    chosen_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("result_entry.id"))
    detail: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = _now()


class AnalysisQueue(Base):
    """What a write touched, for the analysis worker (written in the write's transaction)."""
    __tablename__ = "analysis_queue"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    # the kelurahan codes the write touched, and incident points whose escalation radius it
    # touched (the worker maps them to TPS with its rules); both NULL: the whole election
    kelurahan_kode: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    points = mapped_column(Geometry("MULTIPOINT", srid=4326))
    reason: Mapped[str] = mapped_column(Text)
    enqueued_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp(), nullable=False)
    __table_args__ = (Index("analysis_queue_election", "election_id", "id"),)


class AnalysisInputs(Base):
    """The rules file (SHA-256) the stored results of an election were computed with."""
    __tablename__ = "analysis_inputs"
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"),
                                             primary_key=True)
    rules_sha256: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = _now()

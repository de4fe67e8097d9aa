"""The audit log said in words for the /audit page: action names and details as a supervisor
reads them, not the stored keys (``personnel.move``, ``to_gap``, ``client_uuid``).

The log itself keeps its keys (it is data, hash-chained); only the page translates.
"""
from __future__ import annotations

from gisdesk.indonesian import angka

ACTIONS = {
    "incident.create": "Kejadian dilaporkan", "incident.verify": "Kejadian diverifikasi",
    "incident.reject": "Kejadian ditolak", "incident.resolve": "Kejadian selesai",
    "incident.merge": "Kejadian digabung", "readiness.update": "Kesiapan TPS diperbarui",
    "personnel.move": "Perpindahan personel", "personnel.plan": "Rencana personel diterapkan",
    "personnel.update": "Jumlah personel diubah", "login.ok": "Masuk",
    "login.failed": "Gagal masuk", "login.rate_limited": "Masuk ditahan (terlalu sering)",
    "login.suspicious": "Percobaan masuk mencurigakan", "user.create": "Pengguna dibuat",
    "user.password": "Kata sandi diganti",
    "user.password_failed": "Ganti kata sandi gagal (kata sandi lama salah)", "user.disable": "Pengguna dinonaktifkan",
    "user.enable": "Pengguna diaktifkan", "token.create": "Token API dibuat",
    "token.revoke": "Token API dicabut", "quickcount.entry": "Hasil hitung cepat dimasukkan",
    "quickcount.resolve": "Selisih hitung cepat diselesaikan",
    "quickcount.view": "Hitung cepat dilihat", "demo.load": "Data demo dimuat",
    "demo.results": "Hasil demo dimuat", "election.add": "Pemilu ditambahkan",
    "patterns.add": "Pola pengamanan ditambahkan", "export.map": "Peta briefing dibuat",
    "import.boundaries": "Impor batas wilayah", "import.tps": "Impor TPS",
    "import.ratings": "Impor penilaian kerawanan", "import.personnel": "Impor penugasan personel",
    "import.incidents": "Impor laporan kejadian", "import.readiness": "Impor kesiapan TPS",
    "import.facilities": "Impor fasilitas",
}
GROUPS = {"incident": "Kejadian", "import": "Impor", "personnel": "Personel",
          "export": "Unduhan", "login": "Masuk", "user": "Pengguna", "token": "Token API",
          "quickcount": "Hitung cepat", "readiness": "Kesiapan TPS", "demo": "Data demo",
          "election": "Pemilu", "patterns": "Pola pengamanan", "session": "Sesi",
          "audit": "Log audit"}
KEYS = {
    "agency": "instansi", "count": "jumlah", "to_kelurahan_kode": "ke kelurahan",
    "from_kelurahan_kode": "dari kelurahan", "from_reserve": "dari cadangan",
    "reason": "alasan", "to_gap": "kekurangan tujuan setelahnya",
    "from_gap": "kekurangan asal setelahnya", "from": "dari status", "to": "ke status",
    "note": "catatan", "into": "digabung ke", "counts": "jumlah baris",
    "warnings": "peringatan", "state": "status", "kelurahan_kode": "kelurahan",
    "based_on_version": "berdasarkan hasil versi", "moves": "perpindahan",
    "gap_after": "kekurangan setelahnya", "old": "semula", "new": "menjadi",
    "target": "sasaran", "unit": "satuan", "addr": "alamat IP", "role": "peran",
    "category": "kategori", "severity": "tingkat", "tps_kode": "TPS", "items": "isian",
    "rows": "baris", "layer": "lapisan", "format": "format", "source": "sumber",
}
HIDDEN = {"client_uuid", "import_batch", "id", "content_hash"}   # technical, not for reading
WORDS = {"inserted": "baru", "updated": "diperbarui", "unchanged": "tidak berubah",
         "reported": "dilaporkan", "verified": "terverifikasi", "resolved": "selesai",
         "rejected": "ditolak", "merged": "digabung", "polri": "Polri", "linmas": "Linmas",
         "tni": "TNI", "True": "ya", "False": "tidak"}


def action_label(action: str) -> str:
    if action in ACTIONS:
        return ACTIONS[action]
    group, _, rest = action.partition(".")
    return f"{GROUPS.get(group, group)}: {rest.replace('_', ' ')}" if rest else \
        GROUPS.get(group, group)


def _key(key: str) -> str:
    return KEYS.get(key, key.replace("_", " "))


def _value(value) -> str:
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, (int, float)):
        return angka(value)
    if isinstance(value, dict):
        return ", ".join(f"{WORDS.get(str(k), _key(str(k)))} {_value(v)}"
                         for k, v in value.items() if k not in HIDDEN and v not in (None, ""))
    if isinstance(value, list):
        shown = [_value(v) for v in value[:5]]
        return ", ".join(shown) + (" …" if len(value) > 5 else "")
    return WORDS.get(str(value), str(value))


def detail_words(detail: dict | None, limit: int = 240) -> str:
    """One line: "instansi Polri; jumlah 4; ke kelurahan 52.71.02.1012; ..."."""
    if not detail:
        return ""
    parts = [f"{_key(k)}: {_value(v)}" for k, v in detail.items()
             if k not in HIDDEN and v not in (None, "", [], {})]
    text = "; ".join(parts)
    return text if len(text) <= limit else text[:limit - 1] + "…"

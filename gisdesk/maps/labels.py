"""Indonesian labels for coded values (one place for map popups, legends and tables)."""
from __future__ import annotations

VOCABULARIES: dict[str, dict[str, str]] = {
    "kelas": {"kurang_rawan": "Kurang rawan", "rawan": "Rawan",
              "sangat_rawan": "Sangat rawan", "khusus": "Khusus"},
    "severity": {"ringan": "Ringan", "sedang": "Sedang", "berat": "Berat"},
    "status": {"reported": "Dilaporkan (belum diverifikasi)", "verified": "Terverifikasi",
               "resolved": "Selesai", "rejected": "Ditolak", "merged": "Digabung"},
    "readiness": {"siap": "Siap", "sebagian": "Sebagian siap", "belum": "Belum siap"},
    "facility_kind": {"pps": "Sekretariat PPS", "ppk": "Sekretariat PPK", "kpu": "KPU",
                      "bawaslu": "Bawaslu", "puskesmas": "Puskesmas",
                      "rumah_sakit": "Rumah sakit", "polsek": "Polsek",
                      "polresta": "Polresta", "pos_polisi": "Pos polisi",
                      "koramil": "Koramil", "kodim": "Kodim", "damkar": "Pemadam kebakaran",
                      "lainnya": "Lainnya"},
}
CLASS_ORDER = ("kurang_rawan", "rawan", "sangat_rawan", "khusus")

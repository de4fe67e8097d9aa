"""A template file per upload kind: the columns the importer reads, in Indonesian, with two
example rows a desk operator replaces (codes of the Mataram demo). Each one is accepted by
its importer as it is (a test uploads them)."""
from __future__ import annotations

import csv
import io

from gisdesk.entry.taxonomy import Taxonomy

TPS_A, TPS_B = "52.71.01.1004-001", "52.71.01.1004-002"


def _ratings(_tax) -> tuple[list[str], list[list]]:
    return (["kode_tps", "sumber", "kelas", "tanggal", "catatan"],
            [[TPS_A, "polri", "rawan", "2024-02-10", "riwayat bentrok 2019"],
             [TPS_B, "kpu", "kurang rawan", "2024-02-10", ""]])


def _personnel(_tax) -> tuple[list[str], list[list]]:
    return (["kode_tps", "instansi", "jumlah", "satuan", "catatan"],
            [[TPS_A, "polri", 2, "Polsek Ampenan", ""],
             [TPS_A, "linmas", 2, "Linmas Kel. Ampenan Selatan", ""]])


def _incidents(_tax) -> tuple[list[str], list[list]]:
    return (["waktu", "kategori", "tingkat", "lat", "lon", "tps", "uraian", "pelapor"],
            [["2024-02-14 09:30", "intimidasi", "sedang", -8.57565, 116.07770, TPS_A,
              "Saksi diintimidasi di depan TPS", "Petugas kelurahan"],
             ["2024-02-14 10:15", "banjir", "ringan", -8.57520, 116.07840, "",
              "Genangan di halaman TPS", "Petugas kelurahan"]])


def _readiness(tax: Taxonomy) -> tuple[list[str], list[list]]:
    keys = [item.key for item in tax.readiness]
    return (["kode_tps", "waktu_cek", *keys, "catatan"],
            [[TPS_A, "2024-02-14 06:30", *(["ya"] * len(keys)), ""],
             [TPS_B, "2024-02-14 06:45", *(["ya"] * (len(keys) - 1)), "tidak",
              "penerangan belum ada"]])


BUILDERS = {"ratings": _ratings, "personnel": _personnel, "incidents": _incidents,
            "readiness": _readiness}


def example_csv(kind: str, tax: Taxonomy) -> str:
    header, rows = BUILDERS[kind](tax)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()

"""Words and names the Mataram demo is written with (DOMAIN.md): incident categories,
Bawaslu indicators, readiness checklist items, facilities and street names.

Everything here is demo content: names of places are real Mataram names, but what happens
at them (ratings, incidents, shortages) is invented.
"""
from __future__ import annotations

ELECTION = {
    "kode": "pemilu-2024-mataram",
    "nama": "Pemilu 2024 Kota Mataram (DATA DEMO)",
    "kind": "pemilu",
    "voting_date": "2024-02-14",
    "campaign_start": "2023-11-28",
    "max_voters_per_tps": 300,
    "wilayah_kode": "52.71",
}
N_TPS = 1248
DPT_TOTAL = 315_549
MAX_DPT = 300

KECAMATAN = {
    "52.71.01": "Ampenan", "52.71.02": "Mataram", "52.71.03": "Cakranegara",
    "52.71.04": "Sekarbela", "52.71.05": "Selaparang", "52.71.06": "Sandubaya",
}
# People per km² relative to the city mean (older, denser centre; greener south and east).
KECAMATAN_DENSITY = {
    "52.71.01": 1.05, "52.71.02": 1.15, "52.71.03": 1.25,
    "52.71.04": 0.80, "52.71.05": 1.00, "52.71.06": 0.70,
}
PRISON = {"kecamatan_kode": "52.71.05",
          "nama": "Lembaga Pemasyarakatan Perempuan Kelas III Mataram",
          "alamat": "Lapas Perempuan Kelas III Mataram (TPS lokasi khusus)"}

# The readiness checklist itself (keys, labels, which are critical) is the entry taxonomy's
# (gisdesk/incident_types.toml). How often each item is the one still missing (relative
# weights; items not listed weigh 1), and the critical items a TPS that is "belum" lacks.
PARTIAL_ITEMS = {"penerangan": 5, "posko_kesehatan": 5, "linmas_hadir": 3, "ptps_hadir": 2,
                 "formulir": 2, "tinta": 1, "segel": 1}
CRITICAL_ITEMS = ("lokasi_tenda", "kotak_suara", "surat_suara")

# Bawaslu TPS-vulnerability indicators (7 variables / 22 indicators, shortened).
BAWASLU_INDICATORS = {
    # id: (weight outside hot kelurahan, weight inside)
    "dpt_tms": (6, 4), "logistik_terlambat": (3, 3), "listrik_internet": (4, 2),
    "lokasi_sulit": (2, 2), "rawan_bencana": (2, 1), "netralitas_asn": (1, 3),
    "politik_uang": (1, 5), "riwayat_kekerasan": (0, 4),
}

# Incident categories (DOMAIN.md "Incidents"; codes as in gisdesk/incident_types.toml):
# code -> (label, weight, severity weights ringan/sedang/berat, descriptions).
INCIDENT_CATEGORIES = {
    "intimidasi": ("Intimidasi pemilih/KPPS/saksi", 4, (2, 4, 2), (
        "Sekelompok orang mendatangi rumah anggota KPPS dan meminta memilih paslon tertentu.",
        "Pemilih dilaporkan diancam oleh orang tak dikenal di sekitar TPS.")),
    "politik_uang": ("Politik uang", 5, (2, 4, 1), (
        "Dugaan pembagian amplop kepada warga menjelang pemungutan suara (serangan fajar).",
        "Warga melaporkan pembagian sembako disertai ajakan memilih caleg tertentu.")),
    "kampanye_hitam": ("Kampanye hitam / hoaks / ujaran kebencian / SARA", 5, (4, 3, 1), (
        "Selebaran berisi tuduhan terhadap calon ditemukan di gang dekat TPS.",
        "Spanduk bernada fitnah dipasang di masa tenang.",
        "Pesan berantai di grup WhatsApp warga menyebut surat suara sudah dicoblos.",
        "Unggahan media sosial bernada SARA menyinggung warga satu lingkungan.")),
    "perusakan_logistik": ("Perusakan/perampasan logistik", 2, (1, 3, 2), (
        "Segel kotak suara ditemukan rusak saat logistik tiba di TPS.",
        "Sebagian surat suara basah dan sobek saat distribusi dari PPS.")),
    "manipulasi_suara": ("Dugaan manipulasi surat suara", 1, (0, 2, 2), (
        "Saksi menduga ada surat suara tercoblos sebelum pemungutan.",)),
    "protes_saksi": ("Protes saksi", 3, (3, 3, 0), (
        "Saksi partai memprotes daftar hadir pemilih yang tidak sesuai DPT.",
        "Saksi keberatan atas pemilih pindahan (DPTb) tanpa formulir A.")),
    "bentrok_massa": ("Bentrok massa / antar pendukung", 2, (0, 2, 3), (
        "Dua kelompok pendukung caleg bersitegang di dekat posko pemenangan.",
        "Keributan antar pemuda dua lingkungan, dilerai Bhabinkamtibmas.")),
    "demo_anarkis": ("Unjuk rasa", 1, (1, 2, 1), (
        "Massa berkumpul di depan kantor PPS menuntut kejelasan DPT.",)),
    "kriminal": ("Kriminalitas konvensional", 2, (3, 2, 0), (
        "Pencurian kabel penerangan yang disiapkan untuk TPS.",
        "Kendaraan petugas PPS dibobol di parkiran.")),
    "netralitas_asn": ("Netralitas ASN / kepala lingkungan", 2, (3, 1, 0), (
        "Kepala lingkungan diduga mengarahkan warga dalam pertemuan RT.",)),
    "listrik_padam": ("Listrik padam", 3, (3, 2, 0), (
        "Listrik padam di lingkungan sekitar TPS; genset belum tersedia.",
        "Gangguan jaringan listrik PLN di beberapa gang.")),
    "banjir": ("Banjir / genangan", 2, (1, 3, 1), (
        "Genangan air setinggi 20-30 cm di lokasi tenda TPS setelah hujan deras.",
        "Luapan saluran menggenangi jalan menuju TPS.")),
    "kebakaran": ("Kebakaran", 1, (1, 1, 1), (
        "Kebakaran kios di dekat lokasi TPS, api dipadamkan damkar.",)),
    "lalu_lintas": ("Kecelakaan / kemacetan lalu lintas", 2, (4, 1, 0), (
        "Kemacetan di ruas jalan akibat pendirian tenda TPS di badan jalan.",
        "Kecelakaan sepeda motor yang menabrak tiang tenda TPS.")),
}
# Categories used for escalation near hot kelurahan (verified, sedang/berat, last 24 h).
ESCALATING_CATEGORIES = ("intimidasi", "bentrok_massa", "perusakan_logistik", "politik_uang")
REPORTERS = ("Bhabinkamtibmas", "PTPS", "Ketua KPPS", "Linmas", "Operator desk kelurahan",
             "Babinsa", "Panwascam", "Warga (via operator)")
REVIEW_NOTES = {
    "verified": "Dicek lapangan oleh Polsek; benar terjadi.",
    "resolved": "Sudah ditangani di tempat; situasi kondusif.",
    "rejected": "Tidak terbukti setelah pengecekan / laporan ganda.",
}

STREETS = ("Jl. Pejanggik", "Jl. Langko", "Jl. Udayana", "Jl. Majapahit", "Jl. Airlangga",
           "Jl. Saleh Sungkar", "Jl. Adi Sucipto", "Jl. Sriwijaya", "Jl. Gajah Mada",
           "Jl. Brawijaya", "Jl. Panca Usaha", "Jl. Bung Karno", "Jl. Selaparang",
           "Jl. Catur Warga", "Jl. Dr. Soetomo", "Jl. Pendidikan", "Jl. Ismail Marzuki",
           "Jl. Energi", "Jl. TGH Faisal", "Jl. Swakarsa", "Jl. Lingkar Selatan",
           "Jl. Pariwisata", "Jl. Subak", "Jl. Merdeka", "Jl. Kaktus", "Jl. Bangil",
           "Jl. Sandubaya", "Jl. Tgh. Saleh Hambali", "Jl. Dakota", "Jl. Gora",
           "Jl. Ade Irma Suryani", "Jl. Sultan Kaharuddin", "Jl. Yos Sudarso", "Jl. Koperasi",
           "Jl. Seruni", "Jl. Anggrek", "Jl. Kenanga", "Jl. Flamboyan", "Jl. Melati",
           "Jl. Rajawali", "Jl. Garuda", "Jl. Merpati", "Jl. Nuri", "Jl. Cendrawasih")
LINGKUNGAN_PREFIX = ("Karang", "Dasan", "Gubuk", "Kebon", "Lendang", "Sindu", "Pande",
                     "Bangsal", "Tohpati", "Kekalik", "Sukaraja", "Pengempel", "Batu Dawe")
LINGKUNGAN_SUFFIX = ("Timur", "Barat", "Utara", "Selatan", "Tengah", "Indah", "Baru", "Jaya",
                     "Asri", "Permai", "Lauk", "Daye")

# The 11 puskesmas of Kota Mataram and the kelurahan each stands in (by name).
PUSKESMAS = {
    "Puskesmas Ampenan": "Ampenan Selatan", "Puskesmas Pejeruk": "Pejeruk",
    "Puskesmas Karang Pule": "Karang Pule", "Puskesmas Tanjung Karang": "Tanjung Karang",
    "Puskesmas Mataram": "Mataram Timur", "Puskesmas Pagesangan": "Pagesangan",
    "Puskesmas Dasan Agung": "Dasan Agung", "Puskesmas Selaparang": "Rembiga",
    "Puskesmas Cakranegara": "Cakranegara Utara", "Puskesmas Karang Taliwang": "Karang Taliwang",
    "Puskesmas Babakan": "Babakan",
}
# City-level offices: (kind, name, kelurahan name it stands in).
CITY_OFFICES = (
    ("polresta", "Polresta Mataram", "Dasan Agung Baru"),
    ("kpu", "KPU Kota Mataram", "Pagesangan Timur"),
    ("bawaslu", "Bawaslu Kota Mataram", "Pejanggik"),
    ("kodim", "Kodim 1606/Mataram", "Mataram Timur"),
)

# Demo users: username -> (role, agency, full name). Kelurahan scope for petugas is set
# to one of the hot kelurahan by the loader.
USERS = {
    "admin": ("admin", None, "Administrator sistem (demo)"),
    "supervisor": ("supervisor", None, "Kepala Desk Pemilu (demo)"),
    "koordinator": ("viewer", "polri", "Koordinator keamanan (demo)"),
    "perencana": ("planner", None, "Perencana GIS (demo)"),
    "petugas": ("desk_staff", None, "Petugas desk kelurahan (demo)"),
    "operator_kpu": ("operator", "kpu", "Operator KPU (demo)"),
}
DEMO_PASSWORD = "mataram2024"
DEMO_DESK_STAFF = "petugas"    # the author of the demo's readiness checklists

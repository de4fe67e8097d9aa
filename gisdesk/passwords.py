"""Password rules (no Flask here): one check for every way a password is set.

Strength is estimated by zxcvbn (a maintained port of Dropbox's estimator: dictionaries of
common passwords, names, keyboard patterns, repeats and dates). A password is accepted at
score 3 of 4 ("safely unguessable: moderate protection from offline attacks") or better,
and never when it equals or contains the user name.
"""
from __future__ import annotations

from gisdesk.errors import InputRejected

MIN_LENGTH = 8
MAX_LENGTH = 256
MIN_SCORE = 3
# zxcvbn's English feedback, said in Indonesian (the rest falls back to a general hint)
_HINTS = {
    "top-10": "termasuk 10 kata sandi paling umum",
    "top-100": "termasuk 100 kata sandi paling umum",
    "very common": "sangat umum dipakai",
    "similar to a commonly used": "mirip kata sandi yang umum dipakai",
    "Repeats like": "hanya pengulangan karakter",
    "Sequences like": "hanya urutan seperti abc atau 6543",
    "keyboard": "pola tombol keyboard yang mudah ditebak",
    "Dates are often easy": "tanggal mudah ditebak",
    "Recent years": "tahun mudah ditebak",
}


def _reject(reason: str) -> InputRejected:
    return InputRejected(f"Kata sandi ditolak: {reason}. Pakai kalimat sandi yang panjang, "
                         "mis. tiga atau empat kata acak dengan angka.", field="password")


def check_strength(password: str, username: str) -> None:
    """Raise InputRejected (field ``password``) with an Indonesian reason for a weak one."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise _reject(f"paling sedikit {MIN_LENGTH} karakter")
    if len(password) > MAX_LENGTH:
        raise _reject(f"paling banyak {MAX_LENGTH} karakter")
    name = (username or "").strip().lower()
    if name and name in password.lower():
        raise _reject("tidak boleh sama dengan atau memuat nama pengguna")
    if not password.strip():
        raise _reject("tidak boleh hanya spasi")
    from zxcvbn import zxcvbn   # its dictionaries take a quarter second: only when needed
    # zxcvbn's cost grows with length; the first 100 characters decide the score anyway
    result = zxcvbn(password[:100], user_inputs=[name] if name else [])
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or ""
        hint = next((v for k, v in _HINTS.items() if k in warning), "terlalu mudah ditebak")
        raise _reject(hint)

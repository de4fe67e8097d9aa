"""The Mataram demo: seeded, deterministic Pemilu 2024 data (TPS, ratings, readiness,
personnel, incidents, facilities, users) for the 50 kelurahan of Kota Mataram.

``generate`` builds it as frames without a database; ``load.load_demo`` writes it.
"""

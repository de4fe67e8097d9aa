"""The desk's internal quick count (hitung cepat): NOT official, never to be published.

Entry per TPS and agency (checked, idempotent), double-entry comparison and supervisor
resolution, aggregation TPS -> kelurahan -> kecamatan -> city. No Flask here: who may see
what is decided at the web edge (supervisor/admin; operators only their own agency's rows).
"""
from gisdesk.quickcount.aggregate import NOTICE, Area, kelurahan_geojson, rollup, summary
from gisdesk.quickcount.contests import (Contest, active_election, contest, list_contests,
                                         seed_demo_contest, tps_choices)
from gisdesk.quickcount.entries import Submitted, submit_entry
from gisdesk.quickcount.flags import compare, list_flags, resolve
from gisdesk.quickcount.rules import (QuickCountRules, ResultNumbers, check_arithmetic,
                                      validate_numbers)
from gisdesk.quickcount.store import Actor, agency_entries

__all__ = [
    "NOTICE", "Actor", "Area", "Contest", "QuickCountRules", "ResultNumbers", "Submitted",
    "active_election", "agency_entries", "check_arithmetic", "compare", "contest",
    "kelurahan_geojson", "list_contests", "list_flags", "resolve", "rollup", "seed_demo_contest",
    "submit_entry", "summary", "tps_choices", "validate_numbers",
]

"""Analysis rules as pure functions: TPS class -> personnel requirement -> gap -> suggestions.

No database and no Flask: callers pass plain data (dataclasses, DataFrames, distances already
computed in PostGIS) and an explicit timezone-aware ``as_of``. Typical use::

    rules = load_rules(settings.rules_file)                 # None -> packaged rules.toml
    risks = effective_classes(tps, kelurahan_ratings, incidents_near, rules, as_of)
    req = requirement(risks, pattern_in_force(rules.pattern_sets, as_of))
    table = gaps(req, assignments, rules)
    advice = suggest(table, distances, rules, SuggestContext(tps_risks=risks))
    suggestions_frame(advice).to_csv(...)
"""
from gisdesk.analysis.gap import Assignment, GapTable, gaps
from gisdesk.analysis.requirement import RequirementTable, linmas_for, polri_for, requirement
from gisdesk.analysis.risk import (NearbyIncident, Rating, TpsInput, TpsRisk, effective_classes,
                                   risks_frame)
from gisdesk.analysis.rules import (Pattern, PatternSet, Rules, load_rules, pattern_in_force,
                                    rules_from_dict)
from gisdesk.analysis.suggest import (Move, SuggestContext, Suggestion, suggest,
                                      suggestions_frame, to_rows)

__all__ = [
    "Assignment", "GapTable", "gaps",
    "RequirementTable", "linmas_for", "polri_for", "requirement",
    "NearbyIncident", "Rating", "TpsInput", "TpsRisk", "effective_classes", "risks_frame",
    "Pattern", "PatternSet", "Rules", "load_rules", "pattern_in_force", "rules_from_dict",
    "Move", "SuggestContext", "Suggestion", "suggest", "suggestions_frame", "to_rows",
]

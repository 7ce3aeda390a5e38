"""SOC alert intake and triage: vendor alerts normalised, de-duplicated, correlated and prioritised (pure)."""

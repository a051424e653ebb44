"""Scoring: probes (run beside student code, return plain data) and checks (trusted verdicts)."""

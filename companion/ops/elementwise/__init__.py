"""Elementwise ops: ``sin_mul`` (with broadcasting) and ``sin`` (whose derivative is itself a rule)."""

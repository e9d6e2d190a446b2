"""Elementwise ops: ``sin_mul`` (with broadcasting), ``sin`` (whose derivative is itself a rule) and ``softplus`` (stable at any input)."""

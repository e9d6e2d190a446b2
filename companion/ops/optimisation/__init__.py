"""Optimisation layers: ``eq_qp``, the equality-constrained quadratic programme through its KKT system."""

"""Quantum circuits: ``circuit_expectation`` by state-vector simulation, with the adjoint method."""

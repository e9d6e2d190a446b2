"""Ordinary differential equations: ``odeint`` (fixed-step RK4) with the continuous adjoint."""

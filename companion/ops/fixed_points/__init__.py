"""Fixed points: ``fixed_point``, x* = f(x*, θ), differentiated without unrolling."""

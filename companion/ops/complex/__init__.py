"""Complex-valued ops: ``abs2`` (``|z|²``, real output) and ``phase_mul`` (``exp(i theta) ⊙ z``, ``theta`` real)."""

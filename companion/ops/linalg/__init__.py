"""Linear algebra: ``matvec`` and ``solve`` (one LU factorisation shared by primal, JVP and VJP)."""

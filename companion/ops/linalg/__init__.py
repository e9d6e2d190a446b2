"""Linear algebra: ``matvec``, ``solve`` and ``logdet`` (one LU factorisation shared by primal, JVP and VJP), ``inv`` (rules from its output) and ``quad_form`` (a non-symmetric ``Q``)."""

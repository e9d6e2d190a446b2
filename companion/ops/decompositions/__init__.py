"""Matrix decompositions: ``cholesky`` and the symmetric eigendecomposition ``eigh``."""

"""External ops: ``bessel_j0``, whose values and derivatives SciPy computes, outside the frameworks."""

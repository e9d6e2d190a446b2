"""Every rule formula of the companion, gathered from the families.

The formulas live in ``companion.ops.<family>.rules``, one module per family,
written once against an array namespace ``xp`` (:mod:`companion.xp`): the same
lines run on NumPy arrays (:data:`companion.xp.numpy_ops`), SymPy expressions, PyTorch
tensors and JAX arrays. For an op ``f``:

* ``f(..., xp)``: the primal;
* ``f_tangent(..., xp)``: the JVP formula, the output tangent;
* ``f_cotangents(..., xp, needs)``: the VJP formula, one cotangent per input
  (``None`` where ``needs`` says no).

(``companion.jax.f_vjp``, by contrast, is the ``jax.custom_vjp`` *function*.)

>>> import numpy as np
>>> x, y = np.array([0.0, np.pi / 2]), np.array([2.0, 3.0])
>>> sin_mul(x, y, numpy_ops)
array([0., 3.])
"""

from __future__ import annotations

from companion.ops.elementwise.rules import *  # noqa: F403
from companion.ops.elementwise.rules import __all__ as _elementwise
from companion.ops.linalg.rules import *  # noqa: F403
from companion.ops.linalg.rules import __all__ as _linalg
from companion.ops.external.rules import *  # noqa: F403
from companion.ops.external.rules import __all__ as _external
from companion.ops.reductions.rules import *  # noqa: F403
from companion.ops.reductions.rules import __all__ as _reductions
from companion.ops.complex.rules import *  # noqa: F403
from companion.ops.complex.rules import __all__ as _complex
from companion.ops.decompositions.rules import *  # noqa: F403
from companion.ops.decompositions.rules import __all__ as _decompositions
from companion.ops.matrix_equations.rules import *  # noqa: F403
from companion.ops.matrix_equations.rules import __all__ as _matrix_equations
from companion.ops.roots.rules import *  # noqa: F403
from companion.ops.roots.rules import __all__ as _roots
from companion.ops.linear_solvers.rules import *  # noqa: F403
from companion.ops.linear_solvers.rules import __all__ as _linear_solvers
from companion.ops.fixed_points.rules import *  # noqa: F403
from companion.ops.fixed_points.rules import __all__ as _fixed_points
from companion.ops.optimisation.rules import *  # noqa: F403
from companion.ops.optimisation.rules import __all__ as _optimisation
from companion.ops.odes.rules import *  # noqa: F403
from companion.ops.odes.rules import __all__ as _odes
from companion.ops.circuits.rules import *  # noqa: F403
from companion.ops.circuits.rules import __all__ as _circuits
from companion import xp as _xp
from companion.xp import ArrayOps, sum_to_shape

numpy_ops = _xp.numpy_ops  #: The array namespace (:class:`companion.xp.ArrayOps`) for NumPy float arrays.

__all__ = [
    *_elementwise,
    *_linalg,
    *_external,
    *_reductions,
    *_complex,
    *_decompositions,
    *_matrix_equations,
    *_roots,
    *_linear_solvers,
    *_fixed_points,
    *_optimisation,
    *_odes,
    *_circuits,
    "ArrayOps",
    "numpy_ops",
    "sum_to_shape",
]

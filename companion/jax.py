"""JAX adapters: ``jax.custom_jvp`` (``<op>``) and ``jax.custom_vjp`` (``<op>_vjp``) versions of every op.

``companion.jax.<op>`` is defined with :func:`jax.custom_jvp`: one JVP rule
gives forward mode, reverse mode (JAX linearises the rule and transposes it),
``jit``, ``vmap`` and higher orders. ``companion.jax.<op>_vjp`` is the
:func:`jax.custom_vjp` version: **reverse mode only** (``jax.jvp`` and
``jax.jacfwd`` raise a ``TypeError`` on it), but ``jit``, ``vmap`` and
reverse-over-reverse work. The public functions convert their arguments with
:func:`jax.numpy.asarray` and validate shapes and dtypes (statically, so also
under ``jit``).

This module gathers the families' adapters (``companion.ops.<family>.jax``);
the formulas are in ``companion.ops.<family>.rules``. Float64 needs
``jax.config.update("jax_enable_x64", True)``; the companion does not change
that global setting.

>>> import jax, jax.numpy as jnp
>>> jax.grad(lambda x: sin_mul(x, jnp.asarray(2.0)))(jnp.asarray(0.0)).tolist()
2.0
"""

from __future__ import annotations

from companion._extras import require

require("jax", "companion.jax")

from companion.ops.elementwise.jax import *  # noqa: E402,F403
from companion.ops.elementwise.jax import __all__ as _elementwise  # noqa: E402
from companion.ops.linalg.jax import *  # noqa: E402,F403
from companion.ops.linalg.jax import __all__ as _linalg  # noqa: E402
from companion.ops.external.jax import *  # noqa: E402,F403
from companion.ops.external.jax import __all__ as _external  # noqa: E402
from companion.ops.reductions.jax import *  # noqa: E402,F403
from companion.ops.reductions.jax import __all__ as _reductions  # noqa: E402
from companion.ops.complex.jax import *  # noqa: E402,F403
from companion.ops.complex.jax import __all__ as _complex  # noqa: E402
from companion.ops.decompositions.jax import *  # noqa: E402,F403
from companion.ops.decompositions.jax import __all__ as _decompositions  # noqa: E402
from companion.ops.matrix_equations.jax import *  # noqa: E402,F403
from companion.ops.matrix_equations.jax import __all__ as _matrix_equations  # noqa: E402
from companion.ops.roots.jax import *  # noqa: E402,F403
from companion.ops.roots.jax import __all__ as _roots  # noqa: E402
from companion.ops.linear_solvers.jax import *  # noqa: E402,F403
from companion.ops.linear_solvers.jax import __all__ as _linear_solvers  # noqa: E402
from companion.ops.fixed_points.jax import *  # noqa: E402,F403
from companion.ops.fixed_points.jax import __all__ as _fixed_points  # noqa: E402
from companion.ops.optimisation.jax import *  # noqa: E402,F403
from companion.ops.optimisation.jax import __all__ as _optimisation  # noqa: E402
from companion.ops.odes.jax import *  # noqa: E402,F403
from companion.ops.odes.jax import __all__ as _odes  # noqa: E402
from companion.ops.circuits.jax import *  # noqa: E402,F403
from companion.ops.circuits.jax import __all__ as _circuits  # noqa: E402
from companion.xp import jax as _xp_jax  # noqa: E402

jax_ops = _xp_jax.jax_ops  #: The array namespace (:class:`companion.xp.ArrayOps`) for JAX arrays.

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
    "jax_ops",
]

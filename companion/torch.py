"""PyTorch adapters: the ``torch.autograd.Function`` of every op, and its public function.

Each op is a Function in the modern style (``forward`` without ``ctx``, a
separate ``setup_context``) with ``backward`` (reverse mode), ``jvp`` (forward
mode) and ``generate_vmap_rule = True``, so it works with ``torch.autograd``
(also ``create_graph=True``), ``torch.autograd.forward_ad`` and every
``torch.func`` transform. The public functions (``companion.torch.<op>``)
validate their inputs and call ``<Function>.apply``.

This module gathers the families' adapters (``companion.ops.<family>.torch``);
the formulas are in ``companion.ops.<family>.rules``.

>>> import torch
>>> x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
>>> y = torch.tensor([2.0, 3.0], dtype=torch.float64)
>>> sin_mul(x, y).sum().backward()
>>> torch.allclose(x.grad, y * torch.cos(x))
True
"""

from __future__ import annotations

from companion._extras import require

require("torch", "companion.torch")

from companion.ops.elementwise.torch import *  # noqa: E402,F403
from companion.ops.elementwise.torch import __all__ as _elementwise  # noqa: E402
from companion.ops.linalg.torch import *  # noqa: E402,F403
from companion.ops.linalg.torch import __all__ as _linalg  # noqa: E402
from companion.ops.external.torch import *  # noqa: E402,F403
from companion.ops.external.torch import __all__ as _external  # noqa: E402
from companion.ops.reductions.torch import *  # noqa: E402,F403
from companion.ops.reductions.torch import __all__ as _reductions  # noqa: E402
from companion.ops.complex.torch import *  # noqa: E402,F403
from companion.ops.complex.torch import __all__ as _complex  # noqa: E402
from companion.ops.decompositions.torch import *  # noqa: E402,F403
from companion.ops.decompositions.torch import __all__ as _decompositions  # noqa: E402
from companion.ops.matrix_equations.torch import *  # noqa: E402,F403
from companion.ops.matrix_equations.torch import __all__ as _matrix_equations  # noqa: E402
from companion.ops.roots.torch import *  # noqa: E402,F403
from companion.ops.roots.torch import __all__ as _roots  # noqa: E402
from companion.ops.linear_solvers.torch import *  # noqa: E402,F403
from companion.ops.linear_solvers.torch import __all__ as _linear_solvers  # noqa: E402
from companion.ops.fixed_points.torch import *  # noqa: E402,F403
from companion.ops.fixed_points.torch import __all__ as _fixed_points  # noqa: E402
from companion.ops.optimisation.torch import *  # noqa: E402,F403
from companion.ops.optimisation.torch import __all__ as _optimisation  # noqa: E402
from companion.ops.odes.torch import *  # noqa: E402,F403
from companion.ops.odes.torch import __all__ as _odes  # noqa: E402
from companion.ops.circuits.torch import *  # noqa: E402,F403
from companion.ops.circuits.torch import __all__ as _circuits  # noqa: E402
from companion.xp import torch as _xp_torch  # noqa: E402
from companion.xp.torch import FactoredSolve, LUFactors, SingularMatrixError  # noqa: E402,F401

torch_ops = _xp_torch.torch_ops  #: The array namespace (:class:`companion.xp.ArrayOps`) for PyTorch tensors.

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
    "FactoredSolve",
    "LUFactors",
    "SingularMatrixError",
    "torch_ops",
]

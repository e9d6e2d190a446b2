"""Reference custom derivative rules (JVPs and VJPs) for PyTorch and JAX.

The companion package of the book *Custom Derivative Rules*. Importing
``companion`` imports neither PyTorch nor JAX: the framework adapters live in
:mod:`companion.torch` and :mod:`companion.jax` and are imported on demand.

Modules:

* :mod:`companion.rules`: every rule formula, written once against an array
  namespace (NumPy, sympy, PyTorch and JAX run the same lines);
* :mod:`companion.torch`: ``torch.autograd.Function`` adapters
  (``sin_mul``, ``matvec``, ``solve``, ``sin``; ``SinMul``, ``MatVec``,
  ``Solve``, ``Sin``, ``SinBackward``);
* :mod:`companion.jax`: ``jax.custom_jvp`` adapters (``sin_mul``, ``matvec``,
  ``solve``, ``sin``) and ``jax.custom_vjp`` ones (``<op>_vjp``, reverse mode only);
* :mod:`companion.symbolic`: sympy derivations confirming each rule
  (``derive(name)``, ``Derivation``);
* :mod:`companion.testing`: ``check_rule`` for anyone's rules, ``check_torch``,
  ``check_jax``, ``taylor_remainder``, ``RuleCheckError``;
* :mod:`companion.registry`: ``OPS``, the list every test battery iterates over;
* :mod:`companion.verify` and ``python -m companion verify``: every check on every op.

>>> import companion, sys
>>> companion.__version__ == __import__("importlib.metadata").metadata.version("jvp-vjp-companion")
True
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

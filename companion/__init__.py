"""Reference custom derivative rules (JVPs and VJPs) for PyTorch and JAX.

The companion package of the book *Custom Derivative Rules*. Importing
``companion`` imports neither PyTorch nor JAX: the framework adapters live in
:mod:`companion.torch` and :mod:`companion.jax` and are imported on demand.

Modules:

* :mod:`companion.torch`: ``torch.autograd.Function`` adapters of every op
  (``companion.torch.<op>``; ``SinMul``, ``MatVec``, ``Solve``, ``Sin``, ``SinBackward``);
* :mod:`companion.jax`: ``jax.custom_jvp`` adapters (``companion.jax.<op>``) and
  ``jax.custom_vjp`` ones (``companion.jax.<op>_vjp``, reverse mode only);
* :mod:`companion.rules`: every formula, written once against an array namespace
  (``<op>``, ``<op>_tangent``, ``<op>_cotangents``);
* :mod:`companion.symbolic`: SymPy derivations confirming each rule (``derive(name)``);
* :mod:`companion.testing`: ``check_rule`` for anyone's rules, ``check_torch``,
  ``check_jax``, ``taylor_remainder``, ``RuleCheckError``;
* :mod:`companion.registry`: ``OPS``, the list every test battery iterates over;
* :mod:`companion.verify` and ``python -m companion verify``: every check on every op;
* :mod:`companion.confirm`: the book's confirmations, which show their result and
  raise when they fail;
* :mod:`companion.ops`: the families of ops (one package each: ``rules``, ``torch``,
  ``jax``, ``entries``) and :class:`companion.ops.Op`; :mod:`companion.xp`: the array
  namespaces; :mod:`companion.derivation`: the machinery of the derivations.

>>> import companion, sys
>>> from importlib.metadata import version
>>> companion.__version__ == version("jvp-vjp-companion")
True
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

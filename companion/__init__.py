"""Reference custom derivative rules (JVPs and VJPs) for PyTorch and JAX.

The companion package of the book *Custom Derivative Rules*. Importing
``companion`` imports neither PyTorch nor JAX: the framework adapters live in
:mod:`companion.torch` and :mod:`companion.jax` and are imported on demand.

>>> import companion, sys
>>> companion.__version__ == __import__("importlib.metadata").metadata.version("jvp-vjp-companion")
True
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

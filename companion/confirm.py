"""Confirmations that show their result and fail loudly: the book's executed checks.

A page of the book confirms each formula it derives. Printing ``True`` is not
enough: a wrong formula would print ``False`` and the page would still build.
These helpers *display* what was checked (in HTML, PDF and notebooks) and
*raise* :class:`ConfirmationError` when the check fails, so a failed
confirmation fails the build.

* :func:`confirm` ``(claim, ok)``: a boolean, a sympy relation, or a
  :class:`companion.derivation.Derivation` (every check of it) must hold.
* :func:`confirm_equal` ``(claim, lhs, rhs)``: two sympy expressions or
  matrices are identical (their difference simplifies to zero).
* :func:`confirm_close` ``(claim, got, want)``: numbers, arrays or tensors
  (NumPy, PyTorch, JAX; also tuples of them) agree to a tolerance.
* :func:`confirm_differs` ``(claim, got, want)``: a *deliberately wrong* rule
  is still wrong: it raises if ``got`` agrees with ``want``, so a page that
  shows a classic mistake cannot silently stop showing it.

>>> import numpy as np
>>> confirm_close(
...     "sin' = cos at 0.3",
...     (np.sin(0.3 + 1e-7) - np.sin(0.3 - 1e-7)) / 2e-7,
...     np.cos(0.3),
...     rtol=1e-8,
... )
confirmed: sin' = cos at 0.3 (relative difference ...)
>>> confirm_close("2 + 2 = 5", 2 + 2, 5)
Traceback (most recent call last):
    ...
companion.confirm.ConfirmationError: NOT confirmed: 2 + 2 = 5: relative difference ...
>>> confirm_differs("a sign-flipped derivative", -np.cos(0.3), np.cos(0.3))
shown wrong, as intended: a sign-flipped derivative (relative difference 2.0e+00)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Confirmation",
    "ConfirmationError",
    "confirm",
    "confirm_equal",
    "confirm_close",
    "confirm_differs",
]


class ConfirmationError(AssertionError):
    """A confirmation on a page did not hold (or a deliberately wrong rule became right)."""


@dataclass(frozen=True)
class Confirmation:
    """A check that held: displayed as one line (Markdown in the book, text elsewhere)."""

    claim: str
    detail: str = ""
    verdict: str = "confirmed"

    def __repr__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.verdict}: {self.claim}{detail}"

    def _repr_markdown_(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"**{self.verdict}:** {_escape(self.claim)}{_escape(detail)}"


def _escape(text: str) -> str:
    """Keep Markdown from reading ``*``, ``_`` or a backquote in a claim as markup."""
    for ch in "\\*_`[]<>|":
        text = text.replace(ch, "\\" + ch)
    return text


def confirm(claim: str, ok: Any) -> Confirmation:
    """Confirm that ``ok`` holds: a bool, a sympy relation or boolean, or a ``Derivation``.

    >>> confirm("one is one", 1 == 1)
    confirmed: one is one
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> confirm("(x + 1)² expands", sympy.Eq(sympy.expand((x + 1) ** 2), x**2 + 2 * x + 1))
    confirmed: (x + 1)² expands
    >>> confirm("one is two", 1 == 2)
    Traceback (most recent call last):
        ...
    companion.confirm.ConfirmationError: NOT confirmed: one is two
    """
    checks = getattr(ok, "checks", None)
    if isinstance(checks, dict):  # a companion.symbolic.Derivation
        failed = [name for name, held in checks.items() if not held]
        if not checks or failed:
            raise ConfirmationError(
                f"NOT confirmed: {claim}: checks failed: {failed or 'none ran'}"
            )
        return Confirmation(claim, f"{len(checks)} identities hold")
    if isinstance(ok, (bool, np.bool_)):
        held = bool(ok)
    else:
        import sympy

        value = sympy.simplify(ok)
        if value not in (sympy.true, sympy.false):
            raise TypeError(
                f"confirm: ok must be a bool, a sympy relation or a Derivation; got {ok!r}"
            )
        held = value is sympy.true
    if not held:
        raise ConfirmationError(f"NOT confirmed: {claim}")
    return Confirmation(claim)


def confirm_equal(claim: str, lhs: Any, rhs: Any) -> Confirmation:
    """Confirm that two sympy expressions, matrices or object arrays are identical.

    The difference must simplify to zero entry by entry (``expand``, then
    ``cancel``, then ``simplify``).

    >>> import sympy
    >>> a, b = sympy.symbols("a b")
    >>> confirm_equal("(a + b)² = a² + 2ab + b²", (a + b) ** 2, a**2 + 2 * a * b + b**2)
    confirmed: (a + b)² = a² + 2ab + b² (holds identically)
    >>> confirm_equal("a b = b a + 1", a * b, b * a + 1)
    Traceback (most recent call last):
        ...
    companion.confirm.ConfirmationError: NOT confirmed: a b = b a + 1: ...
    """
    import sympy

    from companion.derivation import is_zero

    left, right = _sympy_entries(lhs), _sympy_entries(rhs)
    if len(left) != len(right) and len(right) != 1:
        raise ConfirmationError(
            f"NOT confirmed: {claim}: {len(left)} entries against {len(right)}"
        )
    for i, p in enumerate(left):
        gap = p - (right[0] if len(right) == 1 else right[i])
        if not is_zero(gap):
            where = f" (entry {i})" if len(left) > 1 else ""
            raise ConfirmationError(
                f"NOT confirmed: {claim}: the difference{where} is {sympy.simplify(gap)}, not 0"
            )
    return Confirmation(claim, "holds identically")


def _sympy_entries(a: Any) -> list[Any]:
    import sympy

    if isinstance(a, (sympy.MatrixBase, np.ndarray)):
        return list(
            np.asarray(
                a.tolist() if isinstance(a, sympy.MatrixBase) else a, dtype=object
            ).reshape(-1)
        )
    if isinstance(a, (list, tuple)):
        return [e for item in a for e in _sympy_entries(item)]
    return [sympy.sympify(a)]


def _to_numpy(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):  # a torch tensor
        a = a.detach().cpu()
        if getattr(a, "is_conj", lambda: False)():
            a = a.resolve_conj()
        return a.numpy()
    return np.asarray(a)


def _flatten(a: Any) -> list[np.ndarray]:
    if isinstance(a, (list, tuple)):
        return [x for item in a for x in _flatten(item)]
    return [_to_numpy(a)]


def _relative_difference(got: Any, want: Any, atol: float) -> float:
    """``‖got − want‖ / max(‖want‖, atol)`` over all entries of (tuples of) arrays."""
    g, w = _flatten(got), _flatten(want)
    if len(g) != len(w):
        raise ConfirmationError(f"{len(g)} arrays against {len(w)}")
    for p, q in zip(g, w):
        if np.shape(p) != np.shape(q) and np.shape(q) != ():
            raise ConfirmationError(f"shape {np.shape(p)} against shape {np.shape(q)}")
    diff = float(np.sqrt(sum(float(np.sum(np.abs(p - q) ** 2)) for p, q in zip(g, w))))
    scale = float(
        np.sqrt(
            sum(
                float(np.sum(np.abs(np.broadcast_to(q, np.shape(p))) ** 2))
                for p, q in zip(g, w)
            )
        )
    )
    if not np.isfinite(diff):
        return float("inf")
    return diff / max(scale, atol) if diff > 0 else 0.0


def confirm_close(
    claim: str, got: Any, want: Any, *, rtol: float = 1e-10, atol: float = 1e-12
) -> Confirmation:
    """Confirm ``‖got − want‖ ≤ rtol · max(‖want‖, atol / rtol)``: numbers, arrays, tensors or tuples of them.

    The norm is the Euclidean norm over every entry (complex entries by
    modulus). The relative difference is displayed with the claim.

    >>> import numpy as np
    >>> confirm_close("identical", np.ones(3), np.ones(3))
    confirmed: identical (relative difference 0.0e+00)
    """
    try:
        rel = _relative_difference(got, want, atol / rtol)
    except ConfirmationError as err:
        raise ConfirmationError(f"NOT confirmed: {claim}: {err}") from None
    if not rel <= rtol:
        raise ConfirmationError(
            f"NOT confirmed: {claim}: relative difference {rel:.1e} > rtol {rtol:.1e} (atol {atol:.1e})"
        )
    return Confirmation(claim, f"relative difference {rel:.1e}")


def confirm_differs(
    claim: str, got: Any, want: Any, *, rtol: float = 1e-6, atol: float = 1e-12
) -> Confirmation:
    """Confirm that a deliberately wrong result stays wrong: relative difference above ``rtol``.

    Pages show classic mistakes (a missing transpose, an unsummed cotangent);
    this raises if the wrong rule ever starts agreeing with the right answer.

    >>> import numpy as np
    >>> confirm_differs("a wrong rule", np.ones(2), np.ones(2))
    Traceback (most recent call last):
        ...
    companion.confirm.ConfirmationError: NOT wrong any more: a wrong rule: relative ...
    """
    try:
        rel = _relative_difference(got, want, atol / rtol)
    except ConfirmationError as err:  # a shape mismatch is wrong enough
        return Confirmation(claim, str(err), "shown wrong, as intended")
    if rel <= rtol:
        raise ConfirmationError(
            f"NOT wrong any more: {claim}: relative difference {rel:.1e} <= rtol {rtol:.1e}"
        )
    return Confirmation(
        claim, f"relative difference {rel:.1e}", "shown wrong, as intended"
    )

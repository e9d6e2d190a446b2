"""``{rule-table}``: every op of the companion with its value, JVP and VJP, from the code.

The table is generated at build time from the registry (:data:`companion.registry.OPS`:
the op's name, arguments and chapter) and from the docstrings of its rule functions in
``companion.ops.<family>.rules``: the first paragraph of ``<op>`` (the value),
``<op>_tangent`` (the JVP) and ``<op>_cotangents`` or ``<op>_cotangent`` (the VJP), or
the functions an entry names in ``Op.rule_functions``. Their Unicode formula literals
are typeset by :mod:`docstring_math`. An op whose rule functions or chapter cannot be
found fails the build, so the table cannot leave an op out or drift from the docstrings.

>>> rows = rule_rows()
>>> [r.name for r in rows][:2]
['sin_mul', 'sin']
>>> rows[0].jvp
'JVP: ``out_dot = y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``.'
"""

from __future__ import annotations

import importlib
import importlib.resources
import inspect
import re
from dataclasses import dataclass
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from docstring_math import LITERAL, is_formula, to_latex

__all__ = ["Row", "rule_rows", "to_myst"]


class MissingRule(LookupError):
    """An op of the registry whose rule docstrings or chapter the table cannot find."""


@dataclass(frozen=True)
class Row:
    """One op: its signature, chapter label and the first paragraphs of its rule docstrings."""

    name: str
    args: tuple[str, ...]
    chapter: str
    value: str
    jvp: str
    vjp: str


def _first_paragraph(obj: Any) -> str:
    return " ".join((inspect.getdoc(obj) or "").split("\n\n")[0].split())


def _rule(module: Any, op: str, names: tuple[str, ...]) -> str:
    for name in names:
        if hasattr(module, name):
            text = _first_paragraph(getattr(module, name))
            if not any(is_formula(m.group("body")) for m in LITERAL.finditer(text)):
                raise MissingRule(f"{op}: the docstring of {module.__name__}.{name} states no formula")
            return text
    raise MissingRule(f"{op}: none of {', '.join(names)} in {module.__name__}")


def _public_args(op: Any) -> tuple[str, ...]:
    """The positional parameters of ``companion.torch.<op>`` as a reader calls it
    (``("F", "x0", "*params")``); ``op.arg_names`` for an op without ``bind``, whose
    arguments are all arrays."""
    if op.bind is None:
        return op.arg_names
    import inspect

    public = getattr(importlib.import_module("companion.torch"), op.name)
    kinds = {inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD}
    return tuple(("*" if p.kind is p.VAR_POSITIONAL else "") + p.name
                 for p in inspect.signature(public).parameters.values()
                 if p.kind in kinds or p.kind is p.VAR_POSITIONAL)


def rule_rows() -> list[Row]:
    """One :class:`Row` per op of the registry, in the registry's order."""
    from companion.registry import OPS

    rows = []
    for op in OPS:
        module = importlib.import_module(f"companion.ops.{op.family}.rules")
        names = dict(op.rule_functions)
        if not op.chapter:
            raise MissingRule(f"{op.name}: its registry entry names no chapter (Op.chapter)")
        rows.append(Row(
            op.name, _public_args(op), op.chapter,
            _rule(module, op.name, (names.get("value", op.name),)),
            _rule(module, op.name, (names.get("jvp", f"{op.name}_tangent"),)),
            _rule(module, op.name, (names["vjp"],) if "vjp" in names
                  else (f"{op.name}_cotangents", f"{op.name}_cotangent")),
        ))
    return rows


def _inline(text: str) -> str:
    """A docstring paragraph as MyST: formula literals as math, other literals as code."""
    def replace(m: re.Match[str]) -> str:
        body = m.group("body")
        return f"{{math}}`{to_latex(body)}`" if is_formula(body) else f"`{body}`"

    text = re.sub(r"^(Primal|JVP|VJP)\b:?\s*", "", text)
    return LITERAL.sub(replace, text)


def _signature(name: str, args: tuple[str, ...], width: int = 28) -> str:
    """``name(a, b)`` as inline code; a longer one as one code span per argument, so
    that the narrow first column can break between them (in the PDF too).

    >>> _signature("solve", ("A", "b"))
    '`solve(A, b)`'
    >>> _signature("circuit_expectation", ("theta", "gates"), width=10)
    '`circuit_expectation(` `theta,` `gates)`'
    """
    text = f"{name}({', '.join(args)})"
    if len(text) <= width or not args:
        return f"`{text}`"
    return " ".join([f"`{name}(`", *(f"`{a},`" for a in args[:-1]), f"`{args[-1]})`"])


def to_myst(rows: list[Row]) -> list[str]:
    """The rows as a MyST list-table: the op and its links; value, JVP and VJP."""
    lines = ["```{list-table}", ":header-rows: 1", ":widths: 26 74", ":class: rule-table", "",
             "* - Op", "  - Rules"]
    for r in rows:
        torch_, jax_ = f"companion.torch.{r.name}", f"companion.jax.{r.name}"
        lines += [
            f"* - {_signature(r.name, r.args)}",
            "",
            f"    {{ref}}`{r.chapter}`",
            "",
            f"    API: {{py:func}}`PyTorch <{torch_}>`, {{py:func}}`JAX <{jax_}>`, "
            f"{{py:func}}`JAX VJP <{jax_}_vjp>`",
            f"  - **Value.** {_inline(r.value)}",
            "",
            f"    **JVP.** {_inline(r.jvp)}",
            "",
            f"    **VJP.** {_inline(r.vjp)}",
        ]
    return lines + ["```"]


class RuleTable(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        import companion

        for path in importlib.resources.files(companion).joinpath("ops").rglob("*.py"):  # type: ignore[attr-defined]
            self.env.note_dependency(str(path))
        container = nodes.container()
        self.state.nested_parse(StringList(to_myst(rule_rows()), source=self.get_source_info()[0]),
                                self.content_offset, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("rule-table", RuleTable)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

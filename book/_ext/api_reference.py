"""``{companion-api}``: the API reference of a package, one section per public module.

Usage in a MyST page::

    ```{companion-api} companion
    :order: companion.rules companion.torch companion.jax
    ```

The directive documents the package itself and each of its public submodules
(names not starting with ``_``) with ``automodule`` and ``:members:``, so every
name in a module's ``__all__`` is listed (functions wrapped by ``jax.custom_jvp``
or ``jax.custom_vjp`` included), and a module added to the package
appears without editing the page. Modules named in ``:order:`` come first, in
that order; the others follow alphabetically. Each section gets the label
``api-<module with dots as dashes>`` (``api-companion-torch``), for ``{ref}``.

The page is re-read whenever a file of the package changes.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def public_modules(package: str) -> list[str]:
    """The package and its public submodules, found on disk (not imported)."""
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            names.append(f"{package}.{info.name}")
    return names


def wrapped_callables(module: str) -> list[str]:
    """Public names that are callable objects wrapping a function, not functions.

    ``jax.custom_jvp`` and ``jax.custom_vjp`` return such objects; ``automodule``
    does not recognise them as functions and leaves them out, so the directive
    documents them with ``autofunction``.
    """
    mod = importlib.import_module(module)
    names = []
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name, None)
        if (callable(obj) and not inspect.isroutine(obj) and not isinstance(obj, type)
                and inspect.isfunction(inspect.unwrap(obj))):
            names.append(name)
    return names


def label_for(module: str) -> str:
    return "api-" + module.replace(".", "-").replace("_", "-")


class CompanionApi(SphinxDirective):
    required_arguments = 1
    has_content = False
    option_spec = {"order": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        package = self.arguments[0]
        found = public_modules(package)
        preferred = (self.options.get("order") or "").split()
        ordered = [m for m in preferred if m in found]
        ordered += sorted(m for m in found if m not in ordered)

        pkg_dir = Path(importlib.import_module(package).__path__[0])
        self.env.note_dependency(str(pkg_dir))  # a module added or removed
        for path in pkg_dir.glob("*.py"):
            self.env.note_dependency(str(path))

        sections: list[nodes.Node] = []
        for module in ordered:
            label = label_for(module)
            section = nodes.section(ids=[label], names=[label])
            section += nodes.title("", "", nodes.literal(module, module))
            self.state.document.note_explicit_target(section)
            # autodoc writes reStructuredText: in a MyST page it must go through eval-rst.
            fence = ["```{eval-rst}", f".. automodule:: {module}", "   :members:",
                     "   :show-inheritance:", ""]
            for name in wrapped_callables(module):
                fence += [f".. autofunction:: {module}.{name}", ""]
            fence.append("```")
            self.state.nested_parse(StringList(fence, source=self.get_source_info()[0]),
                                    self.content_offset, section)
            sections.append(section)
        return sections


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.autodoc")
    app.add_directive("companion-api", CompanionApi)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

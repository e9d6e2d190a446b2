"""Offer each executed page as a Jupyter notebook (.ipynb) for download.

myst-nb writes every page it executes, with its outputs, to
``<outdir>/../jupyter_execute/<page>.ipynb``. sphinx-book-theme's download
button lists that notebook only when launch buttons (Binder, Colab, ...) are
configured, and by default the book has none (the repository URL turns them on;
see conf.py). This extension copies the notebook next to the page's source in
``_sources/`` and tells the theme about it, so the download menu of every
executed page offers ``.ipynb`` and ``.md``.

In the copy, the first cell installs the companion when the kernel lacks it
(:func:`companion_wheel.setup_cell`), the next defines the book's LaTeX macros,
and the Markdown cells are rewritten for Jupyter by :mod:`notebook_markdown`
(included rule code, equation numbers, titles, citations).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from sphinx.application import Sphinx
from sphinx.directives.code import LiteralIncludeReader
from sphinx.util import logging

from editions import is_check_cell, solutions_wanted, strip_solutions
from companion_wheel import notebook_setup_cell
from macros import MACROS, jupyter_definitions
from notebook_markdown import Resolver, to_jupyter_markdown

logger = logging.getLogger(__name__)

OUTPUT_FOLDER = "jupyter_execute"  # myst-nb's folder, next to the builder's outdir


def executed_notebook(app: Sphinx, pagename: str) -> Path | None:
    """The executed notebook of a page, if myst-nb read the page as a notebook."""
    env = app.env
    if pagename not in env.all_docs or not env.metadata.get(pagename, {}).get("kernelspec"):
        return None
    path = Path(app.outdir).parent / OUTPUT_FOLDER / f"{pagename}.ipynb"
    return path if path.is_file() else None


def add_notebook_download(app: Sphinx, pagename: str, templatename: str,
                          context: dict[str, Any], doctree: Any) -> None:
    """Tell the theme's download menu about the notebook (before the theme builds it)."""
    if app.builder.format != "html" or doctree is None:
        return
    if executed_notebook(app, pagename) is not None:
        context["ipynb_source"] = f"{pagename}.ipynb"


def write_notebook(app: Sphinx, pagename: str, templatename: str,
                   context: dict[str, Any], doctree: Any) -> None:
    """Write the notebook for Jupyter into ``_sources/``.

    After the theme (priority 501): with launch buttons on, the theme copies the raw
    executed notebook to the same place, and this copy must win.
    """
    if app.builder.format != "html" or doctree is None:
        return
    notebook = executed_notebook(app, pagename)
    if notebook is None:
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nb = with_outputs(app, nbformat.read(notebook, as_version=4))
    nbformat.write(for_jupyter(app, pagename, nb), target)


def for_jupyter(app: Sphinx, pagename: str, nb: Any) -> Any:
    """Markdown cells rewritten for Jupyter, figure captions as cells; first a set-up
    cell (installs the companion if need be), then a cell of macros."""
    resolver = book_resolver(app, Path(app.env.doc2path(pagename)).parent)
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    setup = nbformat.v4.new_code_cell(notebook_setup_cell(app, code),
                                      metadata={"tags": ["companion-setup"]})
    cells = [setup, nbformat.v4.new_markdown_cell(jupyter_definitions(MACROS))]
    student = not solutions_wanted(app)  # the student edition: no solutions, no checks
    for cell in nb.cells:
        if student and cell.cell_type == "code" and is_check_cell(cell.source):
            continue
        if cell.cell_type == "markdown":
            source = strip_solutions(cell.source) if student else cell.source
            cell.source = to_jupyter_markdown(source, resolver)
        cells.append(cell)
        figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if cell.cell_type == "code" and figure.get("caption"):
            number = resolver.numbered.get(figure.get("name", ""), "Figure")
            caption = to_jupyter_markdown(figure["caption"], resolver)
            cells.append(nbformat.v4.new_markdown_cell(f"**{number}:** {caption}"))
    nb.cells = cells
    return nb


def book_resolver(app: Sphinx, page_dir: Path) -> Resolver:
    """The book's equation, figure and table numbers, section titles and citations."""
    env = app.env
    numbers = env.toc_fignumbers

    def number(doc: str, kind: str, node_id: str) -> str | None:
        found = numbers.get(doc, {}).get(kind, {}).get(node_id)
        return ".".join(map(str, found)) if found else None

    def include(path: str, options: dict[str, str]) -> str:
        text, _ = LiteralIncludeReader(str(page_dir / path), options, app.config).read()
        return text

    labels = env.domaindata["std"]["labels"]
    equations = {label: n for label, (doc, _) in env.domaindata["math"]["objects"].items()
                 if (n := number(doc, "displaymath", f"equation-{label}"))}
    numbered = {label: app.config.numfig_format[kind] % n
                for label, (doc, node_id, _) in labels.items() for kind in ("figure", "table")
                if (n := number(doc, kind, node_id))}
    sections = {label: title for label, (_, _, title) in labels.items() if title}
    substitutions = {k: str(v) for k, v in getattr(app.config, "myst_substitutions", {}).items()}
    return Resolver(include=include, equation=equations, numbered=numbered, section=sections,
                    citation=citations(app), substitution=substitutions)


def citations(app: Sphinx) -> dict[str, tuple[str, str]]:
    """Author-year labels of the bibliography: ``key -> ("Griewank and Walther", "2008")``."""
    if not hasattr(app, "_notebook_citations"):
        from pybtex.database import parse_file

        found = {}
        for bib in app.config.bibtex_bibfiles:
            for key, entry in parse_file(str(Path(app.confdir) / bib)).entries.items():
                people = entry.persons.get("author") or entry.persons.get("editor") or []
                names = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
                authors = (names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2
                           else f"{names[0]} et al." if names else key)
                found[key] = (authors, entry.fields.get("year", ""))
        app._notebook_citations = found  # type: ignore[attr-defined]
    return app._notebook_citations  # type: ignore[attr-defined]


def with_outputs(app: Sphinx, nb: Any) -> Any:
    """The notebook with the outputs of its execution, from the cache if need be."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if all(cell.get("execution_count") for cell in code):
        return nb
    cache_path = getattr(app.env, "mystnb_config", None) and app.env.mystnb_config.execution_cache_path
    if not cache_path or not Path(cache_path).exists():
        return nb
    from jupyter_cache import get_cache

    try:
        _pk, merged = get_cache(cache_path).merge_match_into_notebook(nb)
    except KeyError:  # not executed (e.g. excluded from execution)
        return nb
    return merged


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("companion_wheel")  # the wheel the set-up cell installs
    # Before sphinx-book-theme builds its header buttons (priority 501).
    app.connect("html-page-context", add_notebook_download, priority=400)
    app.connect("html-page-context", write_notebook, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

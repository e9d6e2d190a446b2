"""Offer each executed page as a Jupyter notebook (.ipynb) for download.

myst-nb writes every page it executes, with its outputs, to
``<outdir>/../jupyter_execute/<page>.ipynb``. sphinx-book-theme's download
button lists that notebook only when launch buttons (Binder, Colab, ...) are
configured, and the book has none: they would fetch code from other hosts at
run time. This extension copies the notebook next to the page's source in
``_sources/`` and tells the theme about it, so the download menu of every
executed page offers ``.ipynb`` and ``.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

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
    if app.builder.format != "html" or doctree is None:
        return
    notebook = executed_notebook(app, pagename)
    if notebook is None:
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(with_outputs(app, nbformat.read(notebook, as_version=4)), target)
    context["ipynb_source"] = f"{pagename}.ipynb"


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
    # Before sphinx-book-theme builds its header buttons (priority 501).
    app.connect("html-page-context", add_notebook_download, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

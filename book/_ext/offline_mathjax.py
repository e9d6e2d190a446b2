"""Serve MathJax from the built site itself, so the book works offline.

Sphinx loads MathJax from a CDN by default. This extension copies a pinned
MathJax 3 (the ``es5`` components of the ``django-static-mathjax`` package on
PyPI, which is only files) into ``<outdir>/_static/mathjax/`` when an HTML
build finishes; ``conf.py`` points ``mathjax_path`` at it.

MathJax 3 loads parts of itself lazily (TeX extensions such as ``[tex]/cancel``,
the CHTML web fonts, the menu's accessibility components), always relative to
the URL of the script that started it. The whole component tree is therefore
copied, not just the entry point, minus the files that cannot be used from a
page: the Node.js entry point, the other combined bundles, and ``latest.js``
(a loader that fetches MathJax from a CDN).

The copy is skipped when the build's copy already holds the same version.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ConfigError, ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

TARGET = "mathjax"  # inside _static
STAMP = ".book-mathjax-version"
# Top-level files of es5/ never loaded by a page that starts from the entry point.
SKIP_TOP = {
    "latest.js",  # fetches MathJax from a CDN: exactly what we must not do
    "node-main.js",
    "mml-chtml.js",
    "mml-svg.js",
    "tex-chtml.js",
    "tex-chtml-full.js",
    "tex-chtml-full-speech.js",
    "tex-mml-svg.js",
    "tex-svg.js",
    "tex-svg-full.js",
}


def mathjax_source() -> tuple[Path, str]:
    """The packaged ``es5`` directory of MathJax and its version."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            "offline_mathjax: the package 'django-static-mathjax' (which provides MathJax's "
            "files) is not installed; install the book's extra: pip install -e '.[book]'"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    es5 = root / "es5"
    if not es5.is_dir():
        raise ExtensionError(f"offline_mathjax: no es5 components in {root}")
    version = json.loads((root / "package.json").read_text(encoding="utf-8"))["version"]
    return es5, version


def _entry_point(app: Sphinx) -> str | None:
    """The path of ``mathjax_path`` inside our copy, or None if it is not ours."""
    path = app.config.mathjax_path
    prefix = TARGET + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def check_config(app: Sphinx, config: Any) -> None:
    path = config.mathjax_path
    if "://" in path or path.startswith("//"):
        raise ConfigError(
            f"mathjax_path = {path!r} loads MathJax from another host; the book must work "
            f"offline: set mathjax_path = '{TARGET}/tex-mml-chtml.js'"
        )
    entry = _entry_point(app)
    if entry is not None:
        es5, _version = mathjax_source()
        if not (es5 / entry).is_file() or entry in SKIP_TOP:
            raise ConfigError(f"mathjax_path: MathJax has no component {entry!r}")


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html" or _entry_point(app) is None:
        return
    es5, version = mathjax_source()
    target = Path(app.outdir) / "_static" / TARGET
    stamp = target / STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == version:
        return
    if target.exists():
        shutil.rmtree(target)

    def ignore(directory: str, names: list[str]) -> set[str]:
        return SKIP_TOP & set(names) if Path(directory) == es5 else set()

    shutil.copytree(es5, target, ignore=ignore)
    licence = es5.parent / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, target / "LICENSE")
    stamp.write_text(version, encoding="utf-8")
    logger.info(f"offline_mathjax: copied MathJax {version} into _static/{TARGET}")


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", check_config)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

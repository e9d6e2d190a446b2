"""Ship the companion's wheel with the HTML book, and the cell that installs it.

Every HTML build carries the wheel of the companion it was built with, in
``_static/wheels/``: the extension builds it (``pip wheel --no-deps``, from a copy of
the package's files, so the source tree gets no ``build/`` folder) into
``_build/wheels/`` and rebuilds it only when a file of the package is newer. Each
downloaded notebook (:mod:`notebook_downloads`) starts with :func:`setup_cell`, which
installs the companion, with the extras of the frameworks the notebook imports, when
``import companion`` fails (in a fresh Jupyter kernel, on Colab or on Binder), and
matplotlib when the notebook plots and the kernel lacks it.

Where the cell installs from (:func:`install_spec`):

* the wheel on the site, by its absolute URL, when the site has a canonical URL
  (``html_baseurl``);
* otherwise, or once ``companion_from_index = True`` in conf.py (the package is on a
  public index), the distribution by name and version.

>>> install_spec("0.1.0", ["jax"], base_url="", wheel_name="w.whl")
'jvp-vjp-companion[jax]==0.1.0'
>>> install_spec("0.1.0", ["torch", "jax"], base_url="https://example.org/book",
...              wheel_name="jvp_vjp_companion-0.1.0-py3-none-any.whl")
'jvp-vjp-companion[torch,jax] @ https://example.org/book/_static/wheels/jvp_vjp_companion-0.1.0-py3-none-any.whl'
>>> frameworks_used(["import torch", "from companion.jax import solve", "x = 1"])
['torch', 'jax']
>>> frameworks_used(["import companion", "import jaxopt"])
[]
>>> also_used(["import matplotlib.pyplot as plt"]), also_used(["import numpy"])
(['matplotlib'], [])
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

DISTRIBUTION = "jvp-vjp-companion"
WHEELS = "_static/wheels"  # in the HTML output
#: The files of the source tree that make the wheel (see pyproject.toml).
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "companion")
FRAMEWORKS = ("torch", "jax")
#: Modules the pages import that no extra of the companion brings: module -> requirement.
ALSO = {"matplotlib": "matplotlib"}
_IMPORTS = re.compile(r"^\s*(?:import|from)\s+(?:companion\.)?(torch|jax)\b"
                      r"|\bcompanion\.(torch|jax)\b|^\s*from\s+companion\s+import\s+.*\b(torch|jax)\b",
                      re.M)


def frameworks_used(sources: Iterable[str]) -> list[str]:
    """The frameworks (``torch``, ``jax``) the code cells import, directly or via the companion."""
    found = {name for source in sources for match in _IMPORTS.finditer(source)
             for name in match.groups() if name}
    return [f for f in FRAMEWORKS if f in found]


def also_used(sources: Iterable[str]) -> list[str]:
    """The modules of :data:`ALSO` that the code cells import."""
    text = "\n".join(sources)
    return [m for m in ALSO if re.search(rf"^\s*(?:import|from)\s+{m}\b", text, re.M)]


def install_spec(version: str, extras: list[str], *, base_url: str, wheel_name: str,
                 from_index: bool = False) -> str:
    """What ``pip install`` gets: the site's wheel by URL, or the distribution by name."""
    name = f"{DISTRIBUTION}[{','.join(extras)}]" if extras else DISTRIBUTION
    if base_url and not from_index:
        return f"{name} @ {base_url.rstrip('/')}/{WHEELS}/{wheel_name}"
    return f"{name}=={version}"


def setup_cell(spec: str, extras: list[str], also: Iterable[str] = ()) -> str:
    """The source of the notebooks' first cell: install what the notebook needs and lacks.

    The companion (``spec``) when ``import companion`` fails, and each module of
    ``also`` (:data:`ALSO`: imported by the pages, brought by no extra) that is
    missing. Plain Python (no ``%pip``), so it runs in any kernel; pip installs into
    the kernel's own environment (``sys.executable``). PyTorch comes from PyTorch's
    CPU index when pip has to install it (a hosted service usually has it already).
    """
    torch_index = ('"--extra-index-url", "https://download.pytorch.org/whl/cpu",\n                    '
                   if "torch" in extras else "")
    name = f"{DISTRIBUTION}[{','.join(extras)}]" if extras else DISTRIBUTION
    needs = ", ".join(['("companion", COMPANION)', *(f'("{m}", "{ALSO[m]}")' for m in also)])
    return f'''\
# Set-up: installs the book's companion package, {name}, if this kernel
# does not have it (a fresh Jupyter kernel, Colab, Binder), and what else it lacks.
import importlib
import importlib.util
import subprocess
import sys

COMPANION = "{spec}"
# (module, what pip installs when the module is missing)
NEEDS = [{needs}]
missing = [requirement for module, requirement in NEEDS
           if importlib.util.find_spec(module) is None]
if missing:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    {torch_index}*missing], check=True)
    importlib.invalidate_caches()
import companion'''


# -- Building and shipping the wheel ------------------------------------------------

def _newest(root: Path) -> float:
    files = [p for name in PACKAGE_FILES for p in ([root / name] if (root / name).is_file()
                                                   else (root / name).rglob("*"))]
    return max(p.stat().st_mtime for p in files if p.is_file() and "__pycache__" not in p.parts)


def build_wheel(root: Path, cache: Path) -> Path:
    """The companion's wheel in ``cache``, built unless one newer than every package file is there."""
    cache.mkdir(parents=True, exist_ok=True)
    newest = _newest(root)
    current = [w for w in cache.glob("jvp_vjp_companion-*.whl") if w.stat().st_mtime >= newest]
    if current:
        return max(current, key=lambda w: w.stat().st_mtime)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        for name in PACKAGE_FILES:
            if (root / name).is_dir():
                shutil.copytree(root / name, source / name,
                                ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(root / name, source / name)
        # With the environment's setuptools first (offline, quick), then, if that one is
        # too old for pyproject.toml, in pip's isolated build environment.
        outputs = []
        for isolation in (["--no-build-isolation"], []):
            result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                                     *isolation, "-w", tmp, str(source)],
                                    capture_output=True, text=True)
            outputs.append(result.stdout[-2000:] + result.stderr[-2000:])
            if result.returncode == 0:
                break
        else:
            raise ExtensionError("could not build the companion's wheel:\n" + "\n".join(outputs))
        (built,) = Path(tmp).glob("jvp_vjp_companion-*.whl")
        wheel = cache / built.name
        os.replace(built, wheel)
    return wheel


def _on_builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    root = Path(app.confdir)
    app._companion_wheel = build_wheel(root, root / "_build" / "wheels")  # type: ignore[attr-defined]


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    wheel = getattr(app, "_companion_wheel", None)
    if exception is not None or wheel is None:
        return
    target = Path(app.outdir) / WHEELS
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.whl"):
        old.unlink()
    shutil.copy2(wheel, target / wheel.name)


def notebook_setup_cell(app: Sphinx, code_sources: list[str]) -> str:
    """The set-up cell of a notebook whose code cells are ``code_sources``."""
    import companion

    extras = frameworks_used(code_sources)
    wheel = getattr(app, "_companion_wheel", None)
    spec = install_spec(companion.__version__, extras, base_url=app.config.html_baseurl or "",
                        wheel_name=wheel.name if wheel else "",
                        from_index=app.config.companion_from_index or wheel is None)
    return setup_cell(spec, extras, also_used(code_sources))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("companion_from_index", False, "html", bool)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("build-finished", _on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

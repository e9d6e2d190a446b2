"""Shared fixtures: the book is built once per test session and reused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# BOOK_HTML_DIR lets parallel work build elsewhere; `make test` uses _build/html.
HTML = Path(os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html"))


def sphinx_build(builder: str, srcdir: Path, outdir: Path, *extra: str,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run sphinx-build with warnings as errors, as `make book` does."""
    cmd = [sys.executable, "-m", "sphinx", "-b", builder, "-n", "-W", "--keep-going",
           "-c", str(ROOT), str(srcdir), str(outdir), *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The HTML book in _build/html, built with -n -W and every cell executed."""
    result = sphinx_build("html", ROOT / "book", HTML)
    if result.returncode != 0:
        pytest.fail("the book did not build:\n" + result.stdout[-4000:] + result.stderr[-8000:])
    return HTML

"""The wheel carries the whole companion package: every module and its type marker."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_contains_every_module_of_the_companion(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=600,
    )
    (wheel,) = tmp_path.glob("jvp_vjp_companion-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "companion").rglob("*.py")}
    assert modules and not modules - names, f"modules missing from the wheel: {sorted(modules - names)}"
    assert "companion/py.typed" in names

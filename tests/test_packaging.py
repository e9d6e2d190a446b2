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


def _peers() -> list[str]:
    """The distributions of the ``peers`` extra, by name (``"jaxopt>=0.8"`` → ``"jaxopt"``)."""
    import re
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return [re.split(r"[<>=!~\[ ]", spec, maxsplit=1)[0] for spec in extras["peers"]]


def test_the_peers_are_pinned_and_installed_by_make_test_only() -> None:
    """The tests' oracles are pinned, installed by ``make test``, and in no other extra."""
    import tomllib

    peers = _peers()
    assert len(peers) >= 5, peers
    pins = {line.split("==")[0].lower().replace("_", "-") for line in (ROOT / "constraints.txt").read_text().splitlines()
            if "==" in line}
    assert not [p for p in peers if p.lower() not in pins], "peers missing from constraints.txt"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for name, specs in [("dependencies", project["dependencies"]), *project["optional-dependencies"].items()]:
        if name != "peers":
            assert not [s for s in specs if any(s.startswith(p) for p in peers)], f"a peer in {name}"
    makefile = (ROOT / "Makefile").read_text()
    assert "'.[dev,peers]'" in makefile and "test: $(PEERS)" in makefile


def test_the_companion_never_imports_a_peer() -> None:
    """No module of ``companion`` imports a peer: they are the tests' oracles, not dependencies."""
    import re

    pattern = re.compile(rf"^\s*(import|from)\s+({'|'.join(_peers())})\b", re.M)  # distribution = module names
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "companion").rglob("*.py") if pattern.search(p.read_text())]
    assert not offenders, f"companion modules importing a peer: {offenders}"

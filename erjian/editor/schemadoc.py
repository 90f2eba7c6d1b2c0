"""The field reference in docs/schema.md, generated from the schemas so it cannot drift.

Regenerate with ``python -m erjian.editor.schemadoc > docs/schema.md``; a test fails when it is stale.
"""

from __future__ import annotations

from erjian.input import models as m
from erjian.input.schema import MISSING, ListOf, Record, Schema
from erjian.input.validate import SECTION

TOP_LEVEL = (m.PROVINCE, m.REGION, m.NOTICE, SECTION, m.CALENDAR_YEAR, m.LAYER, m.SITE,
             m.DIVISIONS_FILE)


def _nested(schema: Schema, seen: list[Schema]) -> None:
    for spec in schema.fields.values():
        inner = spec.item if isinstance(spec, ListOf) else spec
        if isinstance(inner, Record) and inner.schema not in seen:
            seen.append(inner.schema)
            _nested(inner.schema, seen)


def schema_reference() -> str:
    schemas: list[Schema] = []
    for schema in TOP_LEVEL:
        if schema not in schemas:
            schemas.append(schema)
        _nested(schema, schemas)
    lines = ["# Schema reference", "",
             "Generated from `erjian/input/models.py` by `python -m erjian.editor.schemadoc`; do not edit.",
             ""]
    for schema in schemas:
        lines += [f"## {schema.name}", "", schema.help, "",
                  "| field | type | required | default | meaning |",
                  "| --- | --- | --- | --- | --- |"]
        for name, spec in schema.fields.items():
            default = "" if spec.default is MISSING else (
                "[]" if spec.default is list else f"`{spec.default}`")
            lines.append(f"| `{name}` | {spec.describe()} | {'yes' if spec.required else ''} "
                         f"| {default} | {spec.help} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(schema_reference(), end="")

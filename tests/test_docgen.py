"""docs/model.md quotes every scenario default from the schema; it must be current."""

from __future__ import annotations

from pathlib import Path

from twosided import docgen
from twosided.scenario import Buyers

MODEL = Path(__file__).resolve().parents[1] / "docs" / "model.md"


def test_model_doc_parameter_tables_are_current():
    text = MODEL.read_text(encoding="utf-8")
    assert docgen.render(text) == text, "run: python -m twosided.docgen docs/model.md"


def test_every_buyer_parameter_is_documented_with_its_default():
    tables = docgen.parameter_tables()
    for name, field in Buyers.model_fields.items():
        assert f"| `{name}` | `{field.default!r}` |" in tables
        assert field.description

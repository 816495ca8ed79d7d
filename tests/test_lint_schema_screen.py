"""jsonschema-rs only screens documents; it must never call a document valid that jsonschema rejects."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import yaml

from talr_tools.lint.schema_check import _fast_validator, _validator, to_json
from tests.conftest import CORPUS, FIXTURES

GOOD = yaml.safe_load((FIXTURES / "lint" / "good" / "proc_creation_win_powershell_encoded_flag.yml").read_text())
WRONG_VALUES: list[Any] = [None, 5, 1.5, True, "text", "", [], ["x"], {}, {"a": 1}, dt.date(2024, 1, 1)]


def variants() -> list[dict[str, Any]]:
    """The good rule with each field (top level and inside talr) replaced by each wrong value."""
    out = []
    for key in GOOD:
        for value in WRONG_VALUES:
            doc = copy.deepcopy(GOOD)
            doc[key] = value
            out.append(doc)
    for key in [*GOOD["talr"], "extra"]:
        for value in WRONG_VALUES:
            doc = copy.deepcopy(GOOD)
            doc["talr"][key] = value
            out.append(doc)
    return out


def disagrees(doc: dict[str, Any]) -> bool:
    instance = to_json(doc)
    return bool(_fast_validator().is_valid(instance) != (not list(_validator().iter_errors(instance))))


def test_screen_agrees_with_jsonschema() -> None:
    docs = variants()
    assert len(docs) > 150
    assert [doc for doc in docs if disagrees(doc)] == []


def test_screen_agrees_on_corpus_sample(corpus: Any) -> None:
    for path in sorted(CORPUS.rglob("*.yml"))[::25]:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and "action" not in doc:
                assert not disagrees(doc), path

"""Worker-process mapping gives exactly what in-process mapping gives (order, bytes, signatures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from talr_tools.config import load_config
from talr_tools.loader import iter_rule_files
from talr_tools.release.build import BuildOptions, build_release
from talr_tools.release.mapper import MapSettings, map_files
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID
from tests.test_build_support import RELEASE_FIXTURE, keygen


def test_parallel_mapping_equals_serial(tmp_path: Path) -> None:
    key, _allowed = keygen(tmp_path)
    files = list(iter_rule_files([RELEASE_FIXTURE / "rules"]))
    shown = [f.name for f in files]
    settings = MapSettings(producer_id="identity--00000000-0000-5000-8000-000000000000", default_tlp="clear",
                           sigma_spec_version="2.1.0", sign_key=str(key))

    serial = map_files(files, shown, settings, threshold=10**9)
    parallel = map_files(files, shown, settings, threshold=0, jobs=2)

    assert [(r.path, r.rule_id, r.entries, r.markings) for r in serial] == [
        (r.path, r.rule_id, r.entries, r.markings) for r in parallel]
    signed = [json.loads(line) for r in parallel for (_k, line) in r.entries if _k[1] == "indicator"]
    assert len(signed) == 3
    assert all("signature" in o["extensions"][EXTENSION_DEFINITION_ID] for o in signed)


def test_parallel_worker_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("title: x\n\tbad: tab\n", encoding="utf-8")
    settings = MapSettings(producer_id="identity--x", default_tlp="clear", sigma_spec_version="2.1.0")
    (result,) = map_files([bad], ["rules/bad.yml"], settings, threshold=0, jobs=2)
    assert result.error is not None and result.error.startswith("rules/bad.yml:")


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_builds_as_plain_sigma(corpus: Path, tmp_path: Path) -> None:
    result = build_release(load_config(start=tmp_path),
                           BuildOptions(output=tmp_path / "dist", paths=[corpus]))
    assert result.indicators == len(list(iter_rule_files([corpus])))
    assert result.commit is None and result.notes.history is False


def test_git_build_in_workers_is_byte_identical(git_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from talr_tools.release import mapper
    from tests.test_build_support import fixture_repo

    root = fixture_repo(git_repo)
    key, _allowed = keygen(tmp_path)
    config = load_config(root / "talr.toml")
    build_release(config, BuildOptions(output=tmp_path / "serial", sign_key=str(key)))
    monkeypatch.setattr(mapper, "PARALLEL_THRESHOLD", 0)
    build_release(config, BuildOptions(output=tmp_path / "workers", sign_key=str(key)))
    for name in ("talr-bundle.json", "talr-bundle.json.sig", "release-notes.json"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "workers" / name).read_bytes()

"""The conversion library: mapping, discovery cache, worker pool, offline guard, renderers."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from talr_tools.convert import runner
from talr_tools.convert.cache import ConvertCache
from talr_tools.convert.cells import Cell, CellState, Matrix
from talr_tools.convert.discovery import cached_catalogue, discover_catalogue, plugin_fingerprint
from talr_tools.convert.mapping import load_mapping
from talr_tools.convert.render import render_github
from talr_tools.convert.rules import read_sources
from talr_tools.convert.worker import no_network
from talr_tools.errors import ConfigError
from tests.conftest import FIXTURES

RULES = FIXTURES / "convert" / "rules"
WINDOWS_PROC = ("windows", "process_creation", None)


def test_mapping_first_match_union_and_unmatched() -> None:
    mapping = load_mapping()
    assert mapping.pipelines_for("splunk", [WINDOWS_PROC]) == ("splunk_windows",)
    assert mapping.pipelines_for("splunk", [("linux", "process_creation", None)]) is None
    assert mapping.unmatched("splunk", [WINDOWS_PROC, ("linux", None, "auditd")]) == ("linux", None, "auditd")
    # a file with a Windows and a Zeek rule gets both ECS pipelines, in order
    assert mapping.pipelines_for("lucene", [WINDOWS_PROC, ("zeek", None, "dns")]) == ("ecs_windows", "ecs_zeek_beats")
    assert mapping.pipelines_for("log_scale", [("macos", "process_creation", None)]) == ("crowdstrike_fdr",)
    # no entry at all for a target: no pipeline
    assert mapping.pipelines_for("sqlite", [WINDOWS_PROC]) == ()


def test_mapping_override_replaces_a_whole_target() -> None:
    mapping = load_mapping({"pipelines": {"splunk": [{"category": ["process_creation"], "pipelines": ["sysmon"]}]}})
    assert mapping.pipelines_for("splunk", [("linux", "process_creation", None)]) == ("sysmon",)
    assert mapping.pipelines_for("splunk", [("windows", None, "security")]) is None
    assert mapping.pipelines_for("lucene", [WINDOWS_PROC]) == ("ecs_windows",)  # others untouched


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"splunk": {"pipelines": []}}, "[[splunk]] must be an array of tables"),
        ({"splunk": [{"product": "windows", "pipelines": [], "colour": "red"}]}, "unknown key(s) colour"),
        ({"splunk": [{"product": 3, "pipelines": []}]}, "'product' must be a string or a list of strings"),
    ],
)
def test_mapping_override_errors(override: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        load_mapping({"pipelines": override}, where="/x/talr.toml")


def test_shipped_mapping_names_installed_backends_and_pipelines() -> None:
    catalogue = discover_catalogue()
    installed = {t.identifier for t in catalogue.targets}
    for target, entries in load_mapping().entries.items():
        assert target in installed, target
        for entry in entries:
            assert set(entry.pipelines) <= set(catalogue.pipelines), (target, entry.pipelines)


def test_catalogue_cache_file_is_used_and_survives_corruption(tmp_path: Path) -> None:
    first = cached_catalogue(tmp_path)
    path = tmp_path / "convert" / f"targets-{plugin_fingerprint()}.json"
    data = json.loads(path.read_text())
    data["targets"] = data["targets"][:1]
    path.write_text(json.dumps(data))
    assert len(cached_catalogue(tmp_path).targets) == 1  # read from the file, not rediscovered
    path.write_text("{broken")
    assert cached_catalogue(tmp_path) == first


def test_worker_pool_gives_the_same_cells_as_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = discover_catalogue()
    targets = runner.select_targets(catalogue, ["splunk", "sqlite", "carbon_black", "lucene", "esql"])
    sources, _ = read_sources([RULES], max_size=1 << 20)
    mapping = load_mapping()
    alone = runner.run_matrix(sources, catalogue, targets, mapping, cache=ConvertCache(None), jobs=1)
    assert alone.stats.workers == 0
    monkeypatch.setattr(runner, "IN_PROCESS_LIMIT", 0)
    monkeypatch.setattr(runner, "BATCH_CELLS", 4)
    pooled = runner.run_matrix(sources, catalogue, targets, mapping, cache=ConvertCache(None), jobs=2)
    assert pooled.stats.workers == 2
    assert [c.to_dict() for c in pooled.cells] == [c.to_dict() for c in alone.cells]
    assert {c.state for c in pooled.cells} == set(CellState)


def test_offline_guard_blocks_remote_hosts_only() -> None:
    with no_network():
        with pytest.raises(OSError, match="blocked by TALR"):
            socket.getaddrinfo("example.org", 443)
        with socket.socket() as sock, pytest.raises(OSError, match="blocked by TALR"):
            sock.connect(("192.0.2.1", 80))
        assert socket.getaddrinfo("127.0.0.1", 80)
    assert socket.getaddrinfo.__name__ == "getaddrinfo" and socket.getaddrinfo.__module__ == "socket"


def test_backend_that_downloads_fails_offline(run_talr: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    """Elastic's siem_rule formats fetch MITRE data from GitHub: one failed rule, no network."""
    result = run_talr("convert", "-t", "lucene", "-f", "siem_rule_ndjson", str(RULES / "proc_whoami.yml"))
    assert result.returncode == 1
    assert "blocked by TALR (conversion must work offline)" in result.stderr


def test_github_renderer_escapes_properties_and_data() -> None:
    cell = Cell(
        path="rules/a,b:c.yml", rule_id="x", title="t", target="splunk", pipelines=(),
        state=CellState.UNEXPECTED_FAILURE, message="50% bad\nsecond line", line=7,
    )
    text = render_github(Matrix(targets=["splunk"], cells=[cell]))
    first = text.splitlines()[0]
    assert first == (
        "::error file=rules/a%2Cb%3Ac.yml,line=7,title=talr test-convert%3A splunk::"
        "unexpected failure: 50%25 bad%0Asecond line"
    )


def test_libyaml_switch_is_scoped_and_equivalent() -> None:
    import yaml

    from talr_tools.convert.worker import libyaml_safe_load

    text = "a: [1, 2.5, true, null, '2024-01-01']\nb: 2024-01-01\n"
    expected = yaml.safe_load(text)
    real = yaml.safe_load
    with libyaml_safe_load():
        assert yaml.safe_load is not real
        assert yaml.safe_load(text) == expected
        assert list(yaml.safe_load_all("x: 1\n---\ny: 2\n")) == [{"x": 1}, {"y": 2}]
    assert yaml.safe_load is real


def test_catalogue_cache_of_another_shape_is_rediscovered(tmp_path: Path) -> None:
    first = cached_catalogue(tmp_path)
    path = tmp_path / "convert" / f"targets-{plugin_fingerprint()}.json"
    path.write_text(json.dumps({"targets": [], "pipelines": ["sysmon"]}))
    assert cached_catalogue(tmp_path) == first


def test_error_message_is_one_bounded_line() -> None:
    from talr_tools.convert.worker import MAX_MESSAGE, error_message

    message = error_message(NotImplementedError("Field null expressions\n  are not supported (while converting rule None)"))
    assert message == "NotImplementedError: Field null expressions are not supported"
    assert len(error_message(ValueError("x" * 5000))) == MAX_MESSAGE


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_sample_through_every_backend(corpus: Path) -> None:
    """Real SigmaHQ rules through every installed backend: every cell decided, nothing escapes."""
    files = sorted(corpus.rglob("*.yml"))[::150]
    catalogue = discover_catalogue()
    targets = list(catalogue.targets)
    sources, findings = read_sources(files, max_size=1 << 20)
    assert not findings
    result = runner.run_matrix(sources, catalogue, targets, load_mapping(), cache=ConvertCache(None), jobs=2)
    assert len(result.cells) == len(sources) * len(targets)
    states = {c.state for c in result.cells}
    assert CellState.OK in states and CellState.SKIPPED in states
    assert all(c.message for c in result.cells if c.state is not CellState.OK)
    assert not result.load_errors

"""talr.toml: defaults, discovery, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from talr_tools.config import find_config, load_config
from talr_tools.errors import ConfigError

from .conftest import write


def test_defaults_without_any_talr_toml(tmp_path: Path) -> None:
    config = load_config(start=tmp_path)
    assert config.path is None
    assert config.root == tmp_path.resolve()
    assert config.rule_paths == [tmp_path.resolve() / "rules"]
    assert config.default_tlp == "clear"
    assert config.lint.select == () and config.lint.ignore == ()


def test_nearest_config_above_a_subfolder_is_found(tmp_path: Path) -> None:
    write(tmp_path / "talr.toml", """
        rule_dirs = ["detections"]
        default_tlp = "amber"
        [producer]
        name = "Example SOC"
        [lint]
        ignore = ["TALR4"]
        [convert]
        targets = ["splunk"]
    """)
    sub = tmp_path / "detections" / "windows"
    sub.mkdir(parents=True)
    assert find_config(sub) == tmp_path / "talr.toml"
    config = load_config(start=sub)
    assert config.root == tmp_path.resolve()
    assert config.rule_paths == [tmp_path.resolve() / "detections"]
    assert config.default_tlp == "amber"
    assert config.producer.name == "Example SOC"
    assert config.lint.ignore == ("TALR4",)
    assert config.section("convert") == {"targets": ["splunk"]}
    assert config.section("absent") == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('rule_dirs = "rules"', "rule_dirs must be a list of strings"),
        ('default_tlp = "white"', "default_tlp must be one of"),
        ("[lint]\nmax_file_size = -1", "lint.max_file_size must be a positive integer"),
        ("rule_dirs = [", "invalid TOML"),
        ("producer = 3", "[producer] must be a table"),
    ],
)
def test_bad_config_is_a_config_error_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "talr.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)

"""``talr new``: scaffolding a rule."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path

import git
import pytest
import yaml

from talr_tools.config import load_config
from talr_tools.scaffold import NewRule, file_name, rule_folder
from tests.conftest import PROJECT_ROOT, write

SCHEMA = json.loads((PROJECT_ROOT / "schemas" / "talr-rule.schema.json").read_text(encoding="utf-8"))
TODAY = dt.datetime.now(dt.UTC).date()

FILLED_DETECTION = """\
detection:
    selection:
        Image|endswith: '\\certutil.exe'
        CommandLine|contains|windash: '-urlcache'
    condition: selection
"""


def _new(run_talr, cwd: Path, *args: str, env: dict[str, str] | None = None):
    return run_talr("new", *args, cwd=cwd, env=env)


def _fill_detection(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    start = text.index("detection:\n")
    end = text.index("falsepositives:\n")
    path.write_text(text[:start] + FILLED_DETECTION + text[end:], encoding="utf-8")


def test_scaffolds_a_complete_rule_in_the_logsource_folder(git_repo: git.Repo, run_talr) -> None:
    root = Path(git_repo.working_tree_dir or "")
    result = _new(run_talr, root, "Certutil URL Cache Download", "--product", "windows",
                  "--category", "process_creation", "--tag", "attack.t1105")
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == root / "rules" / "windows" / "process_creation" / (
        "proc_creation_win_certutil_url_cache_download.yml")
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert uuid.UUID(data["id"]).version == 4
    assert data["title"] == "Certutil URL Cache Download"
    assert data["date"] == TODAY
    assert data["author"] == "Test Author"  # from the repository's git config
    assert data["logsource"] == {"product": "windows", "category": "process_creation"}
    assert data["tags"] == ["attack.t1105"]
    assert data["talr"]["version"] == 1
    assert data["talr"]["tlp"] == "clear"
    assert data["talr"]["changelog"] == [{"version": 1, "date": TODAY, "note": "Initial version."}]
    first_line = text.splitlines()[0]
    assert first_line.startswith("# yaml-language-server: $schema=")


def test_two_rules_get_different_ids(git_repo: git.Repo, run_talr) -> None:
    root = Path(git_repo.working_tree_dir or "")
    ids = set()
    for title in ("First Rule Title", "Second Rule Title"):
        result = _new(run_talr, root, title, "--product", "linux", "--category", "process_creation")
        ids.add(yaml.safe_load(Path(result.stdout.strip()).read_text(encoding="utf-8"))["id"])
    assert len(ids) == 2


def test_modeline_points_at_the_repository_schema(tmp_path: Path, run_talr) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "talr-rule.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    write(tmp_path / "talr.toml", 'rule_dirs = ["rules"]\ndefault_tlp = "amber"\n')
    result = _new(run_talr, tmp_path, "Some Rule Title", "--product", "windows", "--service", "security",
                  "--author", "Ann")
    path = Path(result.stdout.strip())
    assert path.parent == tmp_path / "rules" / "windows" / "security"
    assert path.name == "win_security_some_rule_title.yml"
    ref = re.match(r"# yaml-language-server: \$schema=(\S+)", path.read_text(encoding="utf-8")).group(1)
    assert ref == "../../../schemas/talr-rule.schema.json"
    assert (path.parent / ref).resolve() == (tmp_path / "schemas" / "talr-rule.schema.json").resolve()
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["talr"]["tlp"] == "amber"  # talr.toml default


def test_modeline_falls_back_to_the_published_schema_url(tmp_path: Path, run_talr) -> None:
    result = _new(run_talr, tmp_path, "Some Rule Title", "--category", "proxy", "--author", "Ann",
                  "--tlp", "green")
    path = Path(result.stdout.strip())
    assert path == tmp_path / "rules" / "proxy" / "proxy_some_rule_title.yml"
    assert path.read_text(encoding="utf-8").splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA['$id']}"
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["talr"]["tlp"] == "green"


def test_dir_option_chooses_the_rules_folder(tmp_path: Path, run_talr) -> None:
    result = _new(run_talr, tmp_path, "Some Rule Title", "--product", "aws", "--service", "cloudtrail",
                  "--author", "Ann", "--dir", str(tmp_path / "detections"))
    assert Path(result.stdout.strip()) == (
        tmp_path / "detections" / "aws" / "cloudtrail" / "aws_cloudtrail_some_rule_title.yml")


def test_scaffold_is_fmt_clean_and_fails_lint_until_detection_is_filled(git_repo: git.Repo, run_talr) -> None:
    root = Path(git_repo.working_tree_dir or "")
    path = Path(_new(run_talr, root, "Certutil URL Cache Download", "--product", "windows",
                     "--category", "process_creation", "--tag", "attack.command-and-control",
                     "--tag", "attack.t1105").stdout.strip())
    fmt = run_talr("fmt", "--check", str(path), cwd=root)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    skeleton = run_talr("lint", str(path), cwd=root)
    assert skeleton.returncode == 1
    assert "detection.selection" in skeleton.stdout or "Detection is empty" in skeleton.stdout
    _fill_detection(path)
    filled = run_talr("lint", str(path), cwd=root)
    assert filled.returncode == 0, filled.stdout + filled.stderr


def test_refuses_to_overwrite_an_existing_file(git_repo: git.Repo, run_talr) -> None:
    root = Path(git_repo.working_tree_dir or "")
    args = ("Same Title Twice", "--product", "windows", "--category", "process_creation")
    first = Path(_new(run_talr, root, *args).stdout.strip())
    first.write_text("# edited by the author\n", encoding="utf-8")
    second = _new(run_talr, root, *args)
    assert second.returncode == 2
    assert second.stderr.strip() == f"talr: error: {first}: already exists; not overwritten (choose another title)"
    assert first.read_text(encoding="utf-8") == "# edited by the author\n"


def test_no_git_author_gives_a_clear_error(tmp_path: Path, run_talr) -> None:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1"}
    result = _new(run_talr, work, "Some Rule Title", "--product", "windows", "--category", "process_creation",
                  env=env)
    assert result.returncode == 2
    assert "no author" in result.stderr and "git config user.name" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (work / "rules").exists()


def test_global_git_config_is_used_outside_a_repository(tmp_path: Path, run_talr) -> None:
    home = tmp_path / "home"
    write(home / ".gitconfig", "[user]\n    name = Global Person\n")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1"}
    result = _new(run_talr, tmp_path, "Some Rule Title", "--product", "windows", "--category", "image_load",
                  env=env)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(Path(result.stdout.strip()).read_text(encoding="utf-8"))["author"] == "Global Person"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--product", "windows", "--category", "a", "--service", "b"), "exclude each other"),
        (("--product", "windows", "--category", "a", "--tlp", "white"), "--tlp must be one of"),
        (("--product", "windows", "--category", "a", "--level", "urgent"), "--level must be one of"),
        (("--tag", "attack.t1105"), "a log source is needed"),
        (("--product", "win dows", "--category", "a"), "log source value 'win dows'"),
        (("--product", "windows", "--category", "a", "--tag", "Attack T1105"), "tag 'Attack T1105'"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, run_talr, args: tuple[str, ...], message: str) -> None:
    result = _new(run_talr, tmp_path, "Some Rule Title", "--author", "Ann", *args)
    assert result.returncode == 2
    assert result.stderr.startswith("talr: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "rules").exists()


def test_file_name_convention() -> None:
    spec = NewRule(title="Suspicious LSASS Access (via ProcDump)!", product="windows", category="process_access")
    assert file_name(spec) == "proc_access_win_suspicious_lsass_access_via_procdump.yml"
    long = NewRule(title="word " * 40, product="linux", service="auditd")
    name = file_name(long)
    assert re.fullmatch(r"[a-z0-9_]{10,90}\.yml", name) and name.startswith("lnx_auditd_word_")
    odd = NewRule(title="Odd Source", product="acme", service="edr-events")
    assert file_name(odd) == "acme_edr_events_odd_source.yml"
    assert rule_folder(Path("r"), odd) == Path("r/acme/edr_events")


def test_title_with_yaml_special_characters_reads_back_unchanged(tmp_path: Path) -> None:
    from talr_tools.scaffold import create_rule

    config = load_config(start=tmp_path)
    for title in ("Yes", "Mimikatz: sekurlsa #1", "'Quoted' Title", "2024-01-01 Rule"):
        spec = NewRule(title=title, product="windows", category="process_creation", author="A: B")
        path = create_rule(spec, config=config, base=tmp_path / f"r{abs(hash(title))}")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["title"] == title and data["author"] == "A: B"

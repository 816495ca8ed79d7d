"""``talr build`` on real git repositories: times from history, reproducibility, signatures, bad input."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import git

from talr_tools.stix.ids import EXTENSION_DEFINITION_ID
from tests.test_build_support import (
    OFFICE,
    POWERSHELL,
    commit_all,
    fixture_repo,
    indicator_of,
    keygen,
    load_bundle,
)

Run = Callable[..., subprocess.CompletedProcess[str]]
PS_PATH = "rules/proc_creation_win_encoded_powershell.yml"


def _bump(root: Path, version: int, note: str) -> None:
    path = root / PS_PATH
    text = path.read_text(encoding="utf-8")
    text = text.replace(f"    version: {version - 1}\n", f"    version: {version}\n")
    text = text.replace("            - ' -EncodedCommand '\n", f"            - ' -EncodedCommand '\n            - ' -e{version} '\n")
    text = text.replace("    changelog:\n", f"    changelog:\n        - version: {version}\n          note: {note}\n")
    path.write_text(text, encoding="utf-8")


def test_times_come_from_the_commits_that_introduced_each_version(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo, "2024-06-01T10:00:00+00:00")
    _bump(root, 3, "Match -e3")
    commit_all(git_repo, "bump", "2024-07-15T08:30:00+02:00")

    proc = run_talr("build", cwd=root)

    assert proc.returncode == 0, proc.stderr
    bundle = load_bundle(root / "dist" / "talr-bundle.json")
    ps = indicator_of(bundle, POWERSHELL)
    # the rule's own history starts at version 2 in this repository: created = its first recorded version
    assert (ps["created"], ps["modified"]) == ("2024-06-01T10:00:00.000Z", "2024-07-15T06:30:00.000Z")
    assert ps["valid_from"] == ps["modified"]
    office = indicator_of(bundle, OFFICE)
    assert office["created"] == office["modified"] == "2024-06-01T10:00:00.000Z"  # not the Sigma date
    ext = ps["extensions"][EXTENSION_DEFINITION_ID]
    assert ext["version"] == 3 and ext["source_commit"] == git_repo.head.commit.hexsha
    assert ps["external_references"][0]["url"] == (
        f"https://git.example.org/soc/rules/blob/{git_repo.head.commit.hexsha}/{PS_PATH}")


def test_two_versions_in_the_same_second_get_distinct_modified(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo, "2024-06-01T10:00:00+00:00")
    _bump(root, 3, "Match -e3")
    commit_all(git_repo, "bump in the same second", "2024-06-01T10:00:00+00:00")

    assert run_talr("build", cwd=root).returncode == 0
    ps = indicator_of(load_bundle(root / "dist" / "talr-bundle.json"), POWERSHELL)
    assert (ps["created"], ps["modified"]) == ("2024-06-01T10:00:00.000Z", "2024-06-01T10:00:00.001Z")


def test_indicator_is_the_rule_as_released_in_its_version_commit(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo)
    released = (root / PS_PATH).read_text(encoding="utf-8")
    first = git_repo.head.commit.hexsha
    (root / PS_PATH).write_text("# a comment only: no new version\n" + released, encoding="utf-8")
    git_repo.git.mv(PS_PATH, "rules/renamed.yml")
    commit_all(git_repo, "comment and move, no bump", "2024-06-02T10:00:00+00:00")

    assert run_talr("build", cwd=root).returncode == 0
    ps = indicator_of(load_bundle(root / "dist" / "talr-bundle.json"), POWERSHELL)
    assert ps["pattern"] == released  # same version => same content, byte for byte
    ext = ps["extensions"][EXTENSION_DEFINITION_ID]
    assert (ext["source_commit"], ext["source_path"]) == (first, PS_PATH)


def test_two_builds_of_one_commit_are_byte_identical_in_other_clones_and_times(
    git_repo: git.Repo, run_talr: Run, tmp_path: Path
) -> None:
    root = fixture_repo(git_repo)
    _bump(root, 3, "Match -e3")
    commit_all(git_repo, "bump", "2024-07-01T00:00:00+00:00")
    key, _allowed = keygen(tmp_path)
    first = run_talr("build", "--sign-key", str(key), "-o", str(tmp_path / "out1"), cwd=root,
                     env={"TZ": "UTC", "LC_ALL": "C"})
    assert first.returncode == 0, first.stderr

    clone = git.Repo.clone_from(root, tmp_path / "elsewhere" / "clone")
    clone_root = Path(clone.working_tree_dir or ".")
    second = run_talr("build", "--sign-key", str(key), "-o", str(tmp_path / "out2"), cwd=clone_root,
                      env={"TZ": "Pacific/Kiritimati", "LC_ALL": "C.UTF-8"})
    assert second.returncode == 0, second.stderr

    for name in ("talr-bundle.json", "talr-bundle.json.sig", "release-notes.md", "release-notes.json"):
        one, two = (tmp_path / "out1" / name).read_bytes(), (tmp_path / "out2" / name).read_bytes()
        assert one == two, name
    assert str(tmp_path).encode() not in (tmp_path / "out1" / "talr-bundle.json").read_bytes()


def test_signed_build_verifies_with_ssh_keygen_and_talr_verify(git_repo: git.Repo, run_talr: Run,
                                                                tmp_path: Path) -> None:
    root = fixture_repo(git_repo)
    key, allowed = keygen(tmp_path)
    proc = run_talr("build", "--sign-key", str(key), cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert key.read_text() not in proc.stdout + proc.stderr
    bundle, sig = root / "dist" / "talr-bundle.json", root / "dist" / "talr-bundle.json.sig"

    with bundle.open("rb") as data:
        check = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "release@example.org",
                                "-n", "talr", "-s", str(sig)], stdin=data, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    ok = run_talr("verify", str(bundle), "--allowed-signers", str(allowed), cwd=root)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for ind in load_bundle(bundle)["objects"]:
        if ind["type"] == "indicator":
            assert ind["extensions"][EXTENSION_DEFINITION_ID]["signature"]["namespace"] == "talr-object"

    data = bytearray(bundle.read_bytes())
    at = data.index(b"Encoded PowerShell")
    data[at] = ord("e")
    bundle.write_bytes(bytes(data))
    bad = run_talr("verify", str(bundle), "--allowed-signers", str(allowed), cwd=root)
    assert bad.returncode == 1


def test_key_from_environment_variable(git_repo: git.Repo, run_talr: Run, tmp_path: Path) -> None:
    root = fixture_repo(git_repo)
    key, allowed = keygen(tmp_path)
    proc = run_talr("build", "--sign-key", "env:MY_KEY", cwd=root, env={"MY_KEY": key.read_text()})
    assert proc.returncode == 0, proc.stderr
    assert key.read_text().strip().splitlines()[1] not in proc.stdout + proc.stderr
    assert run_talr("verify", "dist/talr-bundle.json", "--allowed-signers", str(allowed), cwd=root).returncode == 0


def test_unsigned_build_removes_a_stale_signature(git_repo: git.Repo, run_talr: Run, tmp_path: Path) -> None:
    root = fixture_repo(git_repo)
    key, _allowed = keygen(tmp_path)
    assert run_talr("build", "--sign-key", str(key), cwd=root).returncode == 0
    assert (root / "dist" / "talr-bundle.json.sig").exists()
    proc = run_talr("build", cwd=root, env={"TALR_SIGNING_KEY": ""})
    assert proc.returncode == 0, proc.stderr
    assert not (root / "dist" / "talr-bundle.json.sig").exists()


def test_bad_key_is_one_line_error_and_writes_nothing(git_repo: git.Repo, run_talr: Run, tmp_path: Path) -> None:
    root = fixture_repo(git_repo)
    secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAnotakeySECRETMATERIAL\n-----END OPENSSH PRIVATE KEY-----\n"
    (tmp_path / "bad_key").write_text(secret)
    proc = run_talr("build", "--sign-key", str(tmp_path / "bad_key"), cwd=root)
    assert proc.returncode == 2
    assert proc.stderr.startswith("talr: error: ") and len(proc.stderr.strip().splitlines()) == 1
    assert "SECRETMATERIAL" not in proc.stdout + proc.stderr
    assert not (root / "dist").exists()


def test_broken_rule_stops_the_build_naming_file_and_line(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo)
    (root / "rules" / "broken.yml").write_text("title: x\nid: 9\ndetection: [unclosed\n", encoding="utf-8")
    commit_all(git_repo, "broken", "2024-06-02T00:00:00+00:00")
    proc = run_talr("build", cwd=root)
    assert proc.returncode == 2
    assert proc.stderr.startswith("talr: error: rules/broken.yml:")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (root / "dist").exists()


def test_rule_without_id_and_duplicate_ids_are_refused(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo)
    text = (root / PS_PATH).read_text(encoding="utf-8")
    (root / "rules" / "copy.yml").write_text(text, encoding="utf-8")
    commit_all(git_repo, "duplicate", "2024-06-02T00:00:00+00:00")
    proc = run_talr("build", cwd=root)
    assert proc.returncode == 2 and f"rule id {POWERSHELL} is also used by" in proc.stderr

    (root / "rules" / "copy.yml").write_text(text.replace(f"id: {POWERSHELL}\n", ""), encoding="utf-8")
    commit_all(git_repo, "no id", "2024-06-03T00:00:00+00:00")
    proc = run_talr("build", cwd=root)
    assert proc.returncode == 2 and "rules/copy.yml:1:1: rule has no Sigma id" in proc.stderr


def test_uncommitted_changes_are_left_out_and_dirty_builds_them_marked(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo)
    _bump(root, 3, "Not committed yet")

    head = run_talr("build", cwd=root)
    assert head.returncode == 0
    assert "uncommitted rule change" in head.stderr and PS_PATH in head.stderr
    ext = indicator_of(load_bundle(root / "dist" / "talr-bundle.json"), POWERSHELL)["extensions"]
    assert ext[EXTENSION_DEFINITION_ID]["version"] == 2 and "dirty" not in ext[EXTENSION_DEFINITION_ID]

    dirty = run_talr("build", "--dirty", cwd=root)
    assert dirty.returncode == 0, dirty.stderr
    ind = indicator_of(load_bundle(root / "dist" / "talr-bundle.json"), POWERSHELL)
    ext = ind["extensions"][EXTENSION_DEFINITION_ID]
    assert ext["version"] == 3 and ext["dirty"] is True
    assert ind["modified"] == "2024-06-01T10:00:00.001Z"  # after the last committed version, not the clock
    assert "Not a release" in (root / "dist" / "release-notes.md").read_text()


def test_rev_builds_an_older_commit(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo)
    first = git_repo.head.commit.hexsha
    _bump(root, 3, "Match -e3")
    commit_all(git_repo, "bump", "2024-07-01T00:00:00+00:00")
    proc = run_talr("build", "--rev", first, cwd=root)
    assert proc.returncode == 0, proc.stderr
    ext = indicator_of(load_bundle(root / "dist" / "talr-bundle.json"), POWERSHELL)["extensions"]
    assert ext[EXTENSION_DEFINITION_ID]["version"] == 2
    bad = run_talr("build", "--rev", "no-such-ref", cwd=root)
    assert bad.returncode == 2 and bad.stderr.startswith("talr: error: no-such-ref: not a commit")


def test_no_rules_is_an_error_not_an_empty_release(git_repo: git.Repo, run_talr: Run, tmp_path: Path) -> None:
    root = Path(git_repo.working_tree_dir or ".")
    (root / "talr.toml").write_text('rule_dirs = ["rules"]\n', encoding="utf-8")
    (root / "README.md").write_text("x\n", encoding="utf-8")
    commit_all(git_repo, "no rules yet", "2024-06-01T00:00:00+00:00")
    proc = run_talr("build", cwd=root)
    assert proc.returncode == 2 and "rules: no rule files committed at HEAD" in proc.stderr
    proc = run_talr("build", "--dirty", cwd=root)
    assert proc.returncode == 2 and proc.stderr.startswith("talr: error: ") and "rules: no such rule folder" in proc.stderr
    (root / "rules").mkdir()
    proc = run_talr("build", "--dirty", cwd=root)
    assert proc.returncode == 2 and "rules: no rule files in the working tree" in proc.stderr
    assert not (root / "dist").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_talr("build", str(empty), cwd=tmp_path)
    assert proc.returncode == 2 and "no rule files" in proc.stderr

"""Repository access for versioning (GitPython), rule folders as git pathspecs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from talr_tools.config import TalrConfig, load_config
from talr_tools.errors import TalrError
from talr_tools.loader import RULE_SUFFIXES


@dataclass
class RuleRepo:
    """A git repository holding TALR rules: the repo, its config and the rule folders in it."""

    repo: git.Repo
    config: TalrConfig
    pathspecs: list[str]

    @property
    def workdir(self) -> Path:
        """Absolute path of the working tree."""
        return Path(self.repo.working_tree_dir or ".").resolve()

    def is_rule_path(self, path: str) -> bool:
        """Whether repo-relative posix ``path`` is a rule file inside the rule folders."""
        if not path.endswith(RULE_SUFFIXES):
            return False
        parts = PurePosixPath(path).parts
        if any(part.startswith(".") for part in parts[:-1]):
            return False
        return any(spec == "." or path == spec or path.startswith(spec.rstrip("/") + "/")
                   for spec in self.pathspecs)

    def read_blob(self, hexsha: str) -> bytes:
        """Bytes of blob ``hexsha`` (through GitPython's persistent ``cat-file --batch``)."""
        return bytes(self.repo.odb.stream(bytes.fromhex(hexsha)).read())

    @property
    def is_shallow(self) -> bool:
        """Whether the repository is a shallow clone."""
        return (Path(self.repo.git_dir) / "shallow").is_file() or (
            Path(self.repo.common_dir) / "shallow").is_file()


def open_rule_repo(root: Path, config: TalrConfig | None = None) -> RuleRepo:
    """Open the git repository that holds ``root`` (a folder with ``talr.toml``, or inside one)."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise TalrError(f"{root}: not inside a git repository") from exc
    if repo.bare or repo.working_tree_dir is None:
        raise TalrError(f"{root}: is a bare git repository; versioning needs a working tree")
    cfg = config or load_config(start=root)
    workdir = Path(repo.working_tree_dir).resolve()
    specs = []
    for folder in cfg.rule_paths:
        try:
            rel = folder.resolve().relative_to(workdir).as_posix()
        except ValueError as exc:
            raise TalrError(f"{cfg.path or cfg.root}: rule folder {folder} is outside the git "
                            f"repository {workdir}") from exc
        specs.append(rel)
    return RuleRepo(repo=repo, config=cfg, pathspecs=specs)

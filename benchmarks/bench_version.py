"""Benchmark: ``talr version check`` / ``bump`` / ``history`` on a repository of the SigmaHQ corpus.

Builds a temporary git repository holding the rules of ``../shared/corpus/sigmahq/rules``
(one commit on ``main``), then a branch ``feature`` where one rule's detection changed
(committed), and times the real CLI end to end (a subprocess each, Python start-up
included). *Cold* is the first run after the repository was built (empty ``.talr-cache``,
git index stat data not refreshed yet); *warm* is the median of the following runs.

Targets (issue 3): ``talr version check`` <= 1.5 s, ``talr version bump`` <= 2 s.
``talr history`` and ``rule_version_history`` (all rules, used by ``talr build``) are
printed for information.

Usage: ``python benchmarks/bench_version.py [--subset N] [--repeat K]``
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import git

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "sigmahq" / "rules"
TARGETS = {"talr version check": 1.5, "talr version bump": 2.0}


def build_repo(dest: Path, subset: int | None) -> tuple[git.Repo, str, str]:
    """The corpus in one commit on main, plus a feature commit changing one rule's detection."""
    files = sorted(CORPUS.rglob("*.yml"))
    if subset:
        files = files[:subset]
    rules = dest / "rules"
    for src in files:
        target = rules / src.relative_to(CORPUS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    (dest / "talr.toml").write_text('rule_dirs = ["rules"]\n', encoding="utf-8")
    (dest / ".gitignore").write_text(".talr-cache/\n", encoding="utf-8")
    repo = git.Repo.init(dest, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Bench")
        cfg.set_value("user", "email", "bench@example.org")
        cfg.set_value("commit", "gpgsign", "false")
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "import corpus")
    repo.git.checkout("-q", "-b", "feature")
    victim = next(p for p in sorted(rules.rglob("*.yml")) if "\ndetection:\n" in p.read_text(encoding="utf-8"))
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace("\ndetection:\n", "\ndetection:\n    selection_bench:\n"
                                   "        Image|endswith: '\\bench.exe'\n", 1), encoding="utf-8")
    rel = victim.relative_to(dest).as_posix()
    repo.git.add(rel)
    repo.git.commit("-q", "-m", "Tune one rule")
    return repo, rel, str(len(files))


def timed(args: list[str], cwd: Path, expect: int) -> float:
    """Seconds taken by ``talr ARGS`` (checking its exit code)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "talr_tools.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"talr {' '.join(args)}: exit {done.returncode}, expected {expect}\n{done.stderr}")
    return elapsed


def main() -> None:
    """Build the repository, time each command cold and warm, print figures against targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=None, help="use only the first N corpus rules")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per command (median printed)")
    opts = parser.parse_args()
    if not CORPUS.is_dir():
        raise SystemExit(f"corpus not found at {CORPUS}; nothing to benchmark")
    with tempfile.TemporaryDirectory(prefix="talr-bench-version-") as tmp:
        root = Path(tmp) / "repo"
        started = time.perf_counter()
        repo, changed, count = build_repo(root, opts.subset)
        print(f"repository: {count} rules, 1 changed ({changed}); built in {time.perf_counter() - started:.1f} s")

        def reset() -> None:
            repo.git.checkout("-q", "--", changed)

        rows: list[tuple[str, float, float]] = []
        for name, args, expect, after in (
            ("talr version check", ["version", "check"], 1, None),
            ("talr version bump", ["version", "bump"], 0, reset),
        ):
            shutil.rmtree(root / ".talr-cache", ignore_errors=True)
            cold = timed(args, root, expect)
            if after:
                after()
            warm_runs = []
            for _ in range(opts.repeat):
                warm_runs.append(timed(args, root, expect))
                if after:
                    after()
            rows.append((name, cold, statistics.median(warm_runs)))
        rule_id = _rule_id(root / changed)
        shutil.rmtree(root / ".talr-cache", ignore_errors=True)
        cold = timed(["history", rule_id], root, 0)
        warm = statistics.median(timed(["history", rule_id], root, 0) for _ in range(opts.repeat))
        rows.append(("talr history RULE", cold, warm))
        rows.append(("rule_version_history() all", *_library_history(root, opts.repeat)))

    print(f"{'command':<29} {'cold s':>8} {'warm s':>8} {'target s':>9}  verdict")
    for name, cold, warm in rows:
        target = TARGETS.get(name)
        verdict = "-" if target is None else ("ok" if max(cold, warm) <= target else
                                               "ok warm, over cold" if warm <= target else "OVER")
        shown = f"{target:.1f}" if target is not None else "-"
        print(f"{name:<29} {cold:8.3f} {warm:8.3f} {shown:>9}  {verdict}")


def _rule_id(path: Path) -> str:
    from talr_tools.loader import load_rule

    rule = load_rule(path).rule
    if rule is None or rule.id is None:
        raise SystemExit(f"{path}: unreadable benchmark rule")
    return rule.id


def _library_history(root: Path, repeat: int) -> tuple[float, float]:
    """In-process ``rule_version_history`` over every rule: cold (empty cache), warm (median)."""
    from talr_tools.versioning.history import rule_version_history

    shutil.rmtree(root / ".talr-cache", ignore_errors=True)
    start = time.perf_counter()
    rule_version_history(root)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        rule_version_history(root)
        warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm)


if __name__ == "__main__":
    main()

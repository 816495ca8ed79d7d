"""Benchmark ``talr build --sign-key`` and ``talr verify`` on the SigmaHQ corpus, in one run.

The corpus (``../shared/corpus/sigmahq/rules``) is copied into a plain folder (no git: read as
plain Sigma, times from Sigma dates), an Ed25519 key is made with the real ``ssh-keygen``, then:

* ``talr build <folder> -o OUT --sign-key KEY``: parse, map, sign every indicator, sign the
  bundle, write bundle + notes (whole command, Python start-up included), against <= 3 s;
* ``talr verify OUT/talr-bundle.json --allowed-signers F``: the detached signature and every
  object signature, against <= 2 s;
* a second build, compared byte for byte with the first (reproducibility);
* with ``--git``, also ``talr build --sign-key`` of the same rules committed into a git
  repository (the default way of building: blobs from the commit, times from history); no
  target in the issue, printed for information.

Each figure is the median of ``--repeat`` runs (wall clock, as a user sees it), with the CPU
seconds the command used (all its processes): on a shared machine the wall clock is inflated,
so treat figures as indicative and re-run on a quiet machine.

Usage: ``python benchmarks/bench_build.py [--subset N] [--repeat K] [--corpus DIR] [--git]``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "sigmahq" / "rules"
TALR = [sys.executable, "-m", "talr_tools.cli.main"]
BUILD_TARGET, VERIFY_TARGET = 3.0, 2.0


def prepare(corpus: Path, subset: int | None, work: Path) -> Path:
    """A plain folder in ``work`` holding the corpus (or its first ``subset`` rules)."""
    folder = work / "sigmahq"
    files = sorted(p for p in corpus.rglob("*.yml") if p.is_file())
    for file in files[:subset] if subset else files:
        target = folder / file.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    return folder


CPU: dict[str, list[float]] = {}


def timed(cmd: list[str], cwd: Path, label: str) -> float:
    """Wall seconds ``cmd`` took (its CPU seconds, all processes, go to ``CPU[label]``); exits on failure."""
    env = {**os.environ, "TALR_SIGNING_KEY": ""}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(label, []).append(cpu)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return seconds


def report(label: str, runs: list[float], target: float) -> bool:
    """Print one figure against its target; True when within it."""
    median = statistics.median(runs)
    ok = median <= target
    runs_text = ", ".join(f"{r:.2f}" for r in runs)
    cpu = statistics.median(CPU.get(label, [0.0]))
    print(f"{label:<22} median {median:6.2f} s  (runs: {runs_text}; CPU {cpu:.2f} s)  target <= {target:.1f} s  "
          f"{'OK' if ok else 'OVER'} ({median / target:.0%} of target)")
    return ok


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--subset", type=int, default=None, help="only the first N rules (development)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--git", action="store_true", help="also time a build from a git repository")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus} (skipping)")
        return 0
    with tempfile.TemporaryDirectory(prefix="talr-bench-build-") as tmp:
        work = Path(tmp)
        folder = prepare(args.corpus, args.subset, work)
        count = sum(1 for _ in folder.rglob("*.yml"))
        key = work / "release_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        allowed = work / "allowed_signers"
        allowed.write_text(f"release@example.org {key.with_suffix('.pub').read_text().strip()}\n", encoding="utf-8")
        print(f"talr build + sign / verify: {count} rules of {args.corpus} (plain folder), "
              f"{os.cpu_count()} CPUs, median of {args.repeat}")

        builds = [timed([*TALR, "build", str(folder), "-o", str(work / f"out{i}"), "--sign-key", str(key)], work,
                        "talr build --sign-key") for i in range(args.repeat)]
        bundle = work / "out0" / "talr-bundle.json"
        verifies = [timed([*TALR, "verify", str(bundle), "--allowed-signers", str(allowed)], work, "talr verify")
                    for _ in range(args.repeat)]
        size = bundle.stat().st_size
        same = all((work / f"out{i}" / name).read_bytes() == (work / "out0" / name).read_bytes()
                   for i in range(1, args.repeat) for name in ("talr-bundle.json", "talr-bundle.json.sig"))
        print(f"bundle: {size / 1e6:.1f} MB; builds byte-identical: {same}")
        ok = report("talr build --sign-key", builds, BUILD_TARGET)
        ok &= report("talr verify", verifies, VERIFY_TARGET)
        if args.subset:
            print("(subset: the targets are for the full corpus of 3,141 rules)")
        if args.git:
            repo = work / "repo"
            shutil.copytree(folder, repo / "rules")
            (repo / "talr.toml").write_text('rule_dirs = ["rules"]\n', encoding="utf-8")
            for cmd in (["init", "-q", "-b", "main"], ["add", "-A"],
                        ["-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit", "-qm", "corpus"]):
                subprocess.run(["git", *cmd], cwd=repo, check=True)
            gits = [timed([*TALR, "build", "-o", str(work / f"git{i}"), "--sign-key", str(key)], repo,
                          "talr build (git repo)") for i in range(args.repeat)]
            report("talr build (git repo)", gits, BUILD_TARGET)
            print("(git build: no target in the issue; the 3 s line is for comparison)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark ``talr lint`` against ``sigma check`` on the SigmaHQ corpus, in the same run.

    python benchmarks/bench_lint.py [--corpus PATH] [--subset N] [--runs N]

Copies the corpus to a temporary folder, then measures (wall clock, whole command):

* ``sigma check`` (sigma-cli) with the same offline validator set as ``talr lint``;
* ``talr lint`` cold (empty cache), warm (nothing changed) and with one file changed.

Targets (issue 2): cold <= 0.5 x sigma check; warm <= 1.5 s; one changed file <= 1.0 s.
Exits 0 with a message when the corpus is absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "sigmahq" / "rules"


def validation_config() -> str:
    """sigma-cli validation config: exactly the validators ``talr lint`` runs."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from talr_tools.lint.codes import enabled_validators

    return "validators:\n" + "".join(f"  - {ident}\n" for _code, ident in enabled_validators())


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Seconds taken by ``command`` and its result."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, result


def median_of(runs: int, command: list[str], cwd: Path, env: dict[str, str], before: object = None) -> float:
    """Median seconds over ``runs`` runs; ``before`` (a callable) runs untimed before each."""
    times = []
    for _ in range(runs):
        if callable(before):
            before()
        seconds, result = timed(command, cwd, env)
        if result.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[:500]}")
        times.append(seconds)
    return statistics.median(times)


def main() -> int:
    """Run the benchmark and print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of Sigma rules")
    parser.add_argument("--subset", type=int, default=0, help="only the first N files (quick check)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}: nothing to benchmark (pass --corpus PATH)")
        return 0
    sigma = Path(sys.executable).parent / "sigma"
    if not sigma.exists():
        print(f"sigma-cli not installed next to {sys.executable}: install the dev extras")
        return 0
    files = sorted(args.corpus.rglob("*.yml"))
    if args.subset:
        files = files[: args.subset]
    with tempfile.TemporaryDirectory(prefix="talr-bench-") as tmp:
        work = Path(tmp)
        rules = work / "rules"
        for path in files:
            target = rules / path.relative_to(args.corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        (work / "talr.toml").write_text('rule_dirs = ["rules"]\n', encoding="utf-8")
        (work / "validation.yml").write_text(validation_config(), encoding="utf-8")
        home = work / "home"  # empty: no pySigma data cache, nothing downloaded
        home.mkdir()
        env = {**os.environ, "HOME": str(home), "NO_COLOR": "1", "PYTHONPATH": str(PROJECT_ROOT)}
        talr = [sys.executable, "-m", "talr_tools.cli.main", "lint", "rules"]
        cache = work / ".talr-cache"
        changed = rules / files[len(files) // 2].relative_to(args.corpus)
        original = changed.read_bytes()
        counter = iter(range(1_000_000))

        def clear_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        def change_one() -> None:
            changed.write_bytes(original + f"\n# bench edit {next(counter)}\n".encode())

        print(f"{len(files)} rule files, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        sigma_s = median_of(args.runs, [str(sigma), "check", "--validation-config", "validation.yml", "rules"],
                            work, env)
        cold_s = median_of(args.runs, talr, work, env, before=clear_cache)
        warm_s = median_of(args.runs, talr, work, env)
        one_s = median_of(args.runs, talr, work, env, before=change_one)
        _s, cold_out = timed([*talr, "--no-cache"], work, env)
        _s, warm_out = timed(talr, work, env)
        assert cold_out.stdout == warm_out.stdout, "cached output differs from a fresh run"

    ratio = cold_s / sigma_s
    print(f"sigma check (same {len(validation_config().splitlines()) - 1} offline validators): {sigma_s:6.2f} s")
    print(f"talr lint cold (empty cache):  {cold_s:6.2f} s   {ratio:.2f} x sigma check "
          f"(target <= 0.50) {'OK' if ratio <= 0.5 else 'MISSED'}")
    print(f"talr lint warm (no change):    {warm_s:6.2f} s   (target <= 1.5 s) {'OK' if warm_s <= 1.5 else 'MISSED'}")
    print(f"talr lint one file changed:    {one_s:6.2f} s   (target <= 1.0 s) {'OK' if one_s <= 1.0 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

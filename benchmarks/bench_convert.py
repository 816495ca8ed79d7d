"""Benchmark ``talr test-convert`` against a sigma-cli loop, in one run.

Measures, over the SigmaHQ corpus (``../shared/corpus/sigmahq/rules``) and every installed
backend:

* cold: ``talr test-convert`` with an empty cache;
* warm: the same again, nothing changed;
* one changed rule: one rule's title edited (its content hash changes);
* the sigma-cli loop: ``sigma convert -t X -s`` over the same folder, once per installed
  target, with the pipeline sigma-cli needs for the backends that require one (the
  mapping's Windows pipeline, ``--disable-pipeline-check`` where the pipeline does not list
  the backend).

Prints the figures and the ratios against the issue's targets (cold <= 0.15x the loop,
warm <= 2 s, one changed <= 1.5 s). Wall-clock times of whole commands, as a user sees
them, and the CPU time they used (a fairer figure on a shared, busy machine). Usage::

    python benchmarks/bench_convert.py [--limit N] [--corpus DIR] [--skip-sigma-cli]
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "sigmahq" / "rules"
BIN = Path(sys.executable).parent


def prepare(corpus: Path, limit: int | None, work: Path) -> Path:
    """A rule repository in ``work`` holding the corpus (or its first ``limit`` rules)."""
    rules = work / "rules"
    files = sorted(p for p in corpus.rglob("*.yml") if p.is_file())
    if limit:
        files = files[:limit]
    for file in files:
        target = rules / file.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    (work / "talr.toml").write_text('rule_dirs = ["rules"]\n', encoding="utf-8")
    return rules


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run ``cmd``: (wall seconds, CPU seconds of the command and its workers, result)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, _children_cpu() - cpu, result


def run_talr(work: Path, label: str) -> tuple[float, dict[str, object]]:
    """One ``talr test-convert`` run (default table output, what a user sees); prints its figures."""
    seconds, cpu, result = timed([str(BIN / "talr"), "test-convert", "rules"], work)
    if result.returncode not in (0, 1):
        raise SystemExit(f"talr test-convert failed ({label}): {result.stderr.strip()}")
    summary = result.stdout.strip().splitlines()[-1]
    found = re.search(r"\((\d+) cached, (\d+) converted\)", summary)
    stats: dict[str, object] = {"cached": int(found[1]), "converted": int(found[2])} if found else {}
    print(f"talr {label:<16} {seconds:8.2f} s wall  {cpu:8.2f} s CPU   {stats}", flush=True)
    return seconds, stats


def sigma_cli_pipelines() -> dict[str, tuple[list[str], bool]]:
    """target -> (pipeline arguments, requires_pipeline) for the sigma-cli loop."""
    from talr_tools.convert.discovery import discover_catalogue
    from talr_tools.convert.mapping import load_mapping

    catalogue = discover_catalogue()
    mapping = load_mapping()
    plan: dict[str, tuple[list[str], bool]] = {}
    for target in catalogue.targets:
        pipes: list[str] = []
        if target.requires_pipeline:
            found = mapping.pipelines_for(target.identifier, [("windows", "process_creation", None)])
            pipes = list(found or ())
        plan[target.identifier] = (pipes, target.requires_pipeline)
    return plan


def sigma_cli_loop(rules: Path, work: Path) -> tuple[float, int, int]:
    """``sigma convert -t X -s`` once per installed target: (total seconds, targets, targets stopped early).

    A non-zero exit is sigma-cli giving up part-way (``-s`` skips pySigma's errors only; any
    other exception, such as a backend's ``NotImplementedError``, ends the run): the loop's
    time is then a lower bound of what converting the whole folder would take.
    """
    total = 0.0
    stopped = 0
    targets = 0
    for target, (pipes, required) in sigma_cli_pipelines().items():
        cmd = [str(BIN / "sigma"), "convert", "-t", target, "-s", "-o", "/dev/null", "--disable-pipeline-check"]
        for pipe in pipes:
            cmd += ["-p", pipe]
        if required and not pipes:
            cmd.append("--without-pipeline")
        cmd.append(str(rules))
        seconds, _, result = timed(cmd, work)
        total += seconds
        targets += 1
        stopped += result.returncode != 0
        note = "" if result.returncode == 0 else f"  (exit {result.returncode}: {result.stderr.strip()[-120:]})"
        print(f"sigma-cli {target:<20} {seconds:8.2f} s  pipelines={','.join(pipes) or '-'}{note}", flush=True)
    return total, targets, stopped


def main() -> None:
    """Run the benchmark and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="only the first N rules (quick runs)")
    parser.add_argument("--skip-sigma-cli", action="store_true", help="measure TALR only")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"corpus not found: {args.corpus}")
    with tempfile.TemporaryDirectory(prefix="talr-bench-convert-") as tmp:
        work = Path(tmp)
        rules = prepare(args.corpus, args.limit, work)
        count = sum(1 for _ in rules.rglob("*.yml"))
        print(f"{count} rules from {args.corpus}", flush=True)
        cold, _ = run_talr(work, "cold")
        warm, warm_stats = run_talr(work, "warm")
        if warm_stats.get("converted"):
            raise SystemExit("warm run converted cells: the cache did not work")
        changed = sorted(rules.rglob("*.yml"))[count // 2]
        text = changed.read_text(encoding="utf-8")
        changed.write_text(text.replace("title: ", "title: Changed ", 1), encoding="utf-8")
        one, _ = run_talr(work, "one changed rule")
        print()
        print(f"cold             {cold:8.2f} s")
        print(f"warm             {warm:8.2f} s   target <= 2 s     {'met' if warm <= 2 else 'NOT met'}")
        print(f"one changed rule {one:8.2f} s   target <= 1.5 s   {'met' if one <= 1.5 else 'NOT met'}")
        if args.skip_sigma_cli:
            return
        print()
        loop, targets, stopped = sigma_cli_loop(rules, work)
        ratio = cold / loop if loop else float("inf")
        print()
        print(f"sigma-cli loop   {loop:8.2f} s   ({targets} targets; stopped part-way on {stopped}: a lower bound)")
        print(f"cold / loop      {ratio:8.3f}     target <= 0.15    {'met' if ratio <= 0.15 else 'NOT met'}")


if __name__ == "__main__":
    main()

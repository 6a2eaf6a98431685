"""Benchmarks for the whole course: ``python -m benchmarks [--full]``.

Prints a Markdown report and writes the same figures as JSON to
``benchmarks/results/latest.json``. The default (quick) run takes about 4 minutes on 2 cores:

* the whole test suite (``pytest``) and each notebook's share of it, in quick mode;
* lesson 4: NumPy forward+backward vs torch autograd for one batch (median of 7 rounds);
* the learning-rate finder's suggestion vs the best rate of a grid search, on two problems;
* lesson 7: a 30-second run (budgets are reference-machine seconds): both validation losses,
  characters/second, the share of the matrix-product peak, and the ratio to a naive
  one-character-at-a-time loop.

``--full`` adds each notebook run top to bottom in full mode with its kernel's peak memory,
and lesson 7's recipes for 1, 3, 5 and 10 minutes of training (about 40 minutes in all).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from benchmarks import lr_finder_vs_grid, shakespeare

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def environment() -> dict:
    cpu = platform.processor() or ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "python": platform.python_version()}


def pytest_timings() -> dict:
    """Run the README's test command once; total wall time and each notebook's share."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "--durations=0"], cwd=ROOT,
                          capture_output=True, text=True)
    total = time.perf_counter() - start
    per_notebook: dict[str, float] = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)s \w+\s+(notebooks/[^:]+\.ipynb)", line)
        if m:
            per_notebook[m.group(2)] = per_notebook.get(m.group(2), 0.0) + float(m.group(1))
    summary = next((ln for ln in reversed(proc.stdout.splitlines()) if "passed" in ln or "failed" in ln), "")
    return {"seconds": total, "summary": summary.strip("= "), "notebooks_quick": per_notebook,
            "returncode": proc.returncode}


def execute_notebook(path: Path, quick: bool, report_code: str = "") -> dict:
    """Run one notebook top to bottom in a fresh process; wall time and the kernel's peak memory.

    The runner is a small program passed to a new Python process (``-c``) rather than a call in
    this one: ``RUSAGE_CHILDREN`` then counts that process's children only, that is the one
    kernel, not the kernels of earlier notebooks or the benchmark itself. ``report_code`` is
    run in the kernel after the last cell; whatever it prints after ``REPORT`` comes back as
    ``report`` (lesson 4's timing, read from its variables, not from its prose).
    """
    code = (
        "import resource, sys, time, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "if sys.argv[3]:\n"
        "    nb.cells.append(nbformat.v4.new_code_cell(sys.argv[3]))\n"
        "t = time.perf_counter()\n"
        "NotebookClient(nb, timeout=1200, kernel_name='python3',"
        " resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "print('SECONDS', time.perf_counter() - t)\n"
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "for out in nb.cells[-1].get('outputs', []) if sys.argv[3] else []:\n"
        "    print(out.get('text', ''))\n"
    )
    env = {**os.environ, "TQDM_DISABLE": "1"}
    env.pop("COURSE_QUICK", None)
    if quick:
        env["COURSE_QUICK"] = "1"
    proc = subprocess.run([sys.executable, "-c", code, str(path), str(path.parent), report_code], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    seconds = float(re.search(r"SECONDS ([\d.]+)", proc.stdout).group(1))
    peak_mb = int(re.search(r"PEAK_KB (\d+)", proc.stdout).group(1)) / 1024
    report = re.search(r"REPORT (.*)", proc.stdout)
    return {"seconds": seconds, "peak_mb": peak_mb, "report": json.loads(report.group(1)) if report else None}


def numpy_vs_torch(runs: int = 3) -> dict:
    """Lesson 4's own measurement (its ``ms``: a median of 7 rounds), from fresh quick-mode runs.

    Each run is a few seconds, so it is repeated: the median ratio and its spread are reported.
    """
    found = []
    for _ in range(runs):
        run = execute_notebook(ROOT / "notebooks" / "04_rnn_from_scratch.ipynb", quick=True,
                               report_code="import json; print('REPORT', json.dumps(ms))")
        if "error" in run:
            return run
        found.append((run["report"]["numpy"], run["report"]["torch"]))
    numpy_ms, torch_ms = zip(*found, strict=True)
    ratios = [n / t for n, t in found]
    return {"numpy_ms": statistics.median(numpy_ms), "torch_ms": statistics.median(torch_ms),
            "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="also full-mode notebooks and 1/3/5-minute runs")
    args = parser.parse_args()
    results: dict = {"environment": environment(), "full": args.full}
    steps = [
        ("pytest", pytest_timings),
        ("numpy_vs_torch", numpy_vs_torch),
        ("lr_finder_vs_grid", lr_finder_vs_grid.run),
        ("shakespeare", lambda: shakespeare.run(quick=not args.full)),
    ]
    if args.full:
        steps.append(("notebooks_full", lambda: {
            p.name: {k: v for k, v in execute_notebook(p, quick=False).items() if k != "report"}
            for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}))
    for name, fn in steps:
        start = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results[name] = fn()
        print(f"  done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(report(results))


def report(r: dict) -> str:
    env = r["environment"]
    out = [f"Environment: {env['cpu']}, {env['cores']} cores, torch {env['torch']} "
           f"({env['torch_threads']} threads), Python {env['python']}", ""]
    p = r["pytest"]
    out += ["| notebook | quick mode (s) |" + (" full mode (s) | full mode peak memory (MB) |" if r["full"] else ""),
            "| --- | --- |" + (" --- | --- |" if r["full"] else "")]
    for nb, secs in sorted(p["notebooks_quick"].items()):
        row = f"| {Path(nb).name} | {secs:.0f} |"
        if r["full"]:
            full = r["notebooks_full"].get(Path(nb).name, {})
            row += (f" {full['seconds']:.0f} | {full['peak_mb']:.0f} |" if "seconds" in full else " error | |")
        out.append(row)
    out += ["", f"Whole `pytest`: {p['seconds']:.0f} s ({p['summary']})", ""]
    nt = r["numpy_vs_torch"]
    if "ratio" in nt:
        out.append(f"Lesson 4, one batch of 32 names: NumPy {nt['numpy_ms']:.2f} ms, torch autograd "
                   f"{nt['torch_ms']:.2f} ms: NumPy takes {nt['ratio']:.2f}x torch's time "
                   f"(median of {nt['runs']} runs, spread {nt['ratio_min']:.2f}-{nt['ratio_max']:.2f})")
    out += ["", lr_finder_vs_grid.report(r["lr_finder_vs_grid"]), "", "Lesson 7:",
            shakespeare.report(r["shakespeare"])]
    return "\n".join(out)


if __name__ == "__main__":
    main()

"""`python -m benchmarks [names...] [--quick]`: run benchmarks, print their tables, write results JSON.

Each benchmark runs in a child process (benchmarks/harness.py) with its own settings module and a
fresh database derived from DATABASE_URL (suffix `_bench`) or BENCH_DATABASE_URL, dropped after.
"""

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import BENCHMARKS, RESULTS, ROOT


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument(
        "names",
        nargs="*",
        choices=[[], *BENCHMARKS],
        metavar="name",
        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs and tenants, for a smoke test")
    args = parser.parse_args()
    names = args.names or list(BENCHMARKS)

    results, failed = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            command = [sys.executable, "-m", "benchmarks.harness", name, "--out", str(out)]
            if subprocess.run([*command, *(["--quick"] if args.quick else [])], cwd=ROOT).returncode:
                failed.append(name)
                continue
            results[name] = json.loads(out.read_text())

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"{stamp}-{'-'.join(names)}.json").write_text(json.dumps({"benchmarks": results}, indent=2))
    # latest.json keeps the newest result of every benchmark, so running one does not lose the other.
    latest = RESULTS / "latest.json"
    merged = json.loads(latest.read_text()).get("benchmarks", {}) if latest.exists() else {}
    latest.write_text(json.dumps({"benchmarks": {**merged, **results}}, indent=2))
    print(f"\nwrote {RESULTS / 'latest.json'}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Run one benchmark in this process: its own database, Django set up here, a table and a JSON file.

`python -m benchmarks` starts `python -m benchmarks.harness NAME --out FILE` once per benchmark:
each benchmark needs its own settings module, which Django reads once per process, and starts
from a fresh database.
"""

import argparse
import datetime
import importlib
import importlib.metadata
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

# name -> (module with run(quick) and report(result), settings module it needs)
BENCHMARKS = {
    "provisioning": ("benchmarks.provisioning", "crm_platform.settings"),
    "deploy": ("benchmarks.deploy", "benchmarks.settings"),
    "metadata": ("benchmarks.metadata", "crm_platform.settings"),
    "api": ("benchmarks.api", "benchmarks.api_settings"),
    "scope": ("benchmarks.scope", "crm_platform.settings"),
    "approvals": ("benchmarks.approvals", "crm_platform.settings"),
}


def bench_database_url() -> str:
    """BENCH_DATABASE_URL, or DATABASE_URL's database with `_bench` appended: never the dev database."""
    dev_url = os.environ.get("DATABASE_URL", "")
    url = os.environ.get("BENCH_DATABASE_URL") or ""
    if not url:
        if not dev_url:
            raise SystemExit("set DATABASE_URL (the bench database is derived from it) or BENCH_DATABASE_URL")
        parts = urlsplit(dev_url)
        url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_bench"))
    if dev_url and dj_database_url.parse(url)["NAME"] == dj_database_url.parse(dev_url)["NAME"]:
        raise SystemExit("the bench database must not be the DATABASE_URL database: it is dropped")
    return url


def _server(url: str) -> tuple[psycopg.Connection, str]:
    """A connection to the server's maintenance database, and the bench database's name."""
    config = dj_database_url.parse(url)
    connection = psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    return connection, config["NAME"]


def drop_database(url: str) -> None:
    connection, name = _server(url)
    with connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_database(url: str) -> None:
    drop_database(url)  # left over from an interrupted run
    connection, name = _server(url)
    with connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def elapsed_ms(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return (time.perf_counter() - start) * 1000, value


def summarize(samples_ms: list[float]) -> dict:
    # "inclusive" interpolates between the observed samples, so p95 never exceeds the max.
    p95 = (
        statistics.quantiles(samples_ms, n=20, method="inclusive")[18]
        if len(samples_ms) > 1
        else samples_ms[0]
    )
    return {
        "n": len(samples_ms),
        "median_ms": round(statistics.median(samples_ms), 1),
        "p95_ms": round(p95, 1),
        "min_ms": round(min(samples_ms), 1),
        "max_ms": round(max(samples_ms), 1),
        "samples_ms": [round(s, 1) for s in samples_ms],
    }


def table(headers: list[str], rows: list[list]) -> str:
    """Plain-text columns: the first left-aligned, the rest right-aligned; None prints as '-'."""
    cells = [[str(headers[i]) for i in range(len(headers))]]
    cells += [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _git_commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("-dirty" if git("status", "--porcelain") else "")


def machine() -> dict:
    import django
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('shared_buffers'), current_setting('fsync')")
        version, shared_buffers, fsync = cursor.fetchone()
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "postgresql": version.split(" on ")[0],
        "shared_buffers": shared_buffers,
        "fsync": fsync,
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "django_tenants": importlib.metadata.version("django-tenants"),
        "debug": settings.DEBUG,
        "commit": _git_commit(),
        # Other work on the machine skews every figure: the load is recorded before and after.
        "load_before": os.getloadavg()[0],
    }


def machine_line(info: dict) -> str:
    return (
        f"{info['date']}  nproc={info['nproc']}  mem={info['memory_gb']} GB  {info['postgresql']} "
        f"(shared_buffers={info['shared_buffers']}, fsync={info['fsync']})  Python {info['python']}  "
        f"Django {info['django']}  django-tenants {info['django_tenants']}  DEBUG={info['debug']}  "
        f"commit {info['commit']}\nload average (1 min) before {info['load_before']:.2f}, "
        f"after {info['load_after']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.harness")
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, required=True, help="where to write this benchmark's JSON")
    args = parser.parse_args()

    module_name, settings_module = BENCHMARKS[args.name]
    url = bench_database_url()
    # Forced, not defaulted: the processes migrate_schemas starts read both from the environment.
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    create_database(url)
    try:
        import django

        django.setup()
        logging.disable(logging.INFO)  # sign-up and template INFO lines would drown the tables
        module = importlib.import_module(module_name)
        result = {"name": args.name, "quick": args.quick, "settings": settings_module, "machine": machine()}
        result.update(module.run(quick=args.quick))
        result["machine"]["load_after"] = os.getloadavg()[0]
        print(f"\n== {args.name}{' (quick)' if args.quick else ''} ==\n{machine_line(result['machine'])}\n")
        print(module.report(result), flush=True)
        args.out.write_text(json.dumps(result, indent=2, default=str))
    finally:
        drop_database(url)  # WITH (FORCE) also ends this process's pooled connections


if __name__ == "__main__":
    main()

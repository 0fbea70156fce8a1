"""A small company for approval tests: a rep reporting to a manager reporting to a director,
three finance users, and accounts the rep owns. For the background tests: committed throwaway
tenants and Celery workers of their own (e-mails to files; a worker may be killed)."""

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from crm.customers.models import Account
from crm_platform.celery import app
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.provisioning import template
from tests.conftest import PASSWORD, admin_of
from workflows import engine, services


def person(role: str, *, manager=None, name=None) -> User:
    n = uuid.uuid4().hex[:10]  # unique however often this module is imported
    return User.objects.create(
        email=f"{role}.{n}@approvals.example",
        full_name=name or f"{role} {n}",
        role=Role.objects.get(code=role),
        manager=manager,
    )


def account(owner, name="华辰科技") -> Account:
    record = Account(name=name)
    record.place(owner=owner)
    record.save()
    return record


def save(admin, steps, *, key="p", object="customers.account", **extra):
    return services.save_process(
        actor=admin, key=key, object=object, name=f"Process {key}", definition={"steps": steps, **extra}
    )


def staff(admin) -> dict:
    """The company's people, made in the current tenant."""
    director = person("sales_manager", name="Director 总监")
    manager = person("sales_manager", manager=director, name="Manager 经理")
    rep = person("sales_rep", manager=manager, name="Rep 代表")
    finance = [person("finance") for _ in range(3)]
    return {"admin": admin, "director": director, "manager": manager, "rep": rep, "finance": finance}


@pytest.fixture
def company(alpha):
    with tenant_context(alpha):
        yield staff(admin_of(alpha))


# --- committed tenants and workers of our own, for the background tests ------------------------
# The worker sees committed rows only, so these tests commit in throwaway tenants. Their workers
# are started here rather than by tests/conftest.py's live_worker: they write e-mails to files,
# and a test may kill one and start another.

WORKER_SETTINGS = "tests.workflows.worker_settings"


def sign_up_committed(slug: str):
    """A throwaway tenant, committed; `drop_committed` removes it."""
    return tenant_services.sign_up(
        company_name=f"Approvals {slug}",
        slug=slug,
        admin_name="Ada Approvals",
        email=f"ada@{slug}.example",
        password=PASSWORD,
    )


def drop_committed(tenant) -> None:
    connection.set_schema_to_public()
    template.drop_schema(tenant.schema_name)
    Tenant.objects.filter(pk=tenant.pk).delete()


def start_worker(directory: Path, name: str, *, pool: str = "solo", visibility_timeout=None):
    """A Celery worker process on the real broker and the test database, e-mailing into
    `directory`/mail and logging to `directory`/`name`.log; returns once it answers a ping."""
    (directory / "mail").mkdir(parents=True, exist_ok=True)
    parts = urlsplit(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"])),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS,
        "TEST_EMAIL_FILE_PATH": str(directory / "mail"),
        "TEST_VISIBILITY_TIMEOUT": str(visibility_timeout or ""),
    }
    node = f"{name}-{os.getpid()}@{socket.gethostname()}"
    command = [sys.executable, "-m", "celery", "-A", "crm_platform", "worker", f"--pool={pool}"]
    command += ["--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=INFO", "-n", node]
    with open(directory / f"{name}.log", "ab") as log:
        worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker.node = node
    deadline = time.monotonic() + 90
    while not app.control.ping(destination=[node], timeout=0.5):
        assert worker.poll() is None, f"the Celery worker exited during start-up: see {directory}/{name}.log"
        assert time.monotonic() < deadline, "the Celery worker did not answer within 90 s"
    return worker


def stop_worker(worker) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def broker_backlog() -> int:
    """Messages queued or delivered and not yet acknowledged: 0 once the worker has done all."""
    with app.connection_for_write() as broker:
        client = broker.default_channel.client
        return client.llen("celery") + client.hlen("unacked")


def sent_mail(directory: Path) -> list[tuple[str, str]]:
    """(to, subject) of every e-mail the workers wrote to `directory`/mail (Django's file backend)."""
    found = []
    for path in sorted((directory / "mail").glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if chunk.strip():
                mail = message_from_bytes(chunk, policy=policy.default)
                found.append((str(mail["To"]), " ".join(str(mail["Subject"]).split())))  # unfolded
    return found


@pytest.fixture(scope="module")
def worker_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("worker")


def overdue_submit(process_key: str, submitter, record, *, hours_late: float = 1, sla_hours: float = 24):
    """Submit as if `sla_hours + hours_late` ago, so the first step's tasks are overdue by the
    real clock, the one a worker uses."""
    past = timezone.now() - timedelta(hours=sla_hours + hours_late)
    return engine.submit(
        actor=submitter, object_key="customers.account", record_id=record.pk, process=process_key, now=past
    )

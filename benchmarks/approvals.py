"""Benchmark "approvals": `N` pending approval requests in one tenant (10,000; `--quick`: 1,000)
driven to completion through the engine's own functions (issue 6).

Set-up, timed apart: an organisation (directors, managers, reps, finance, checkers), four processes
and one account per request, then `N` calls of `engine.submit`, the requests of the overdue
processes submitted 25 hours in the past so their first tasks are overdue now. The mix, by
request number:

| share | process | steps |
|---|---|---|
| 4 in 10 | `any` | the rep's manager; then any one of the 6 finance users |
| 3 in 10 | `all` | all 3 checkers; then the rep's director (manager level 2) |
| 2 in 10 | `escalate` | the rep's manager, 24 h SLA, escalate when overdue; then any one finance user |
| 1 in 10 | `auto` | the rep's manager, 24 h SLA, approve when overdue; then the rep's director |

1 request in 7 is rejected at its last step; every other decision approves. Then, timed:

1. escalations: `deadlines.handle_overdue(task_id)` for every overdue task (what a worker runs
   for each task the sweep queues);
2. decisions, in rounds until nothing is pending: for each pending request, its current step's
   approvers through `engine.approve` / `engine.reject` (one approver for an "any" step, every
   approver for an "all" step).

Each call is timed and filed by what it did (step still open, next step opened, request approved
or rejected; escalated, or approved by the deadline). E-mails are a worker's work after the commit:
`notify` still writes its rows, but the e-mail tasks are counted, not queued. Every `SAMPLE`-th
call is captured instead (its statements, their time, the COMMIT) and left out of the latencies.
"""

import itertools
import re
import statistics
import time
from collections import Counter, defaultdict
from datetime import timedelta
from unittest import mock

from django.core.management import call_command
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Role, User
from benchmarks.harness import summarize, table
from crm.customers.models import Account
from crm_platform.celery import app
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.provisioning import template
from workflows import deadlines, engine, services
from workflows.models import ApprovalEvent, ApprovalRequest, ApprovalTask, Notification

REQUESTS, QUICK_REQUESTS = 10_000, 1_000
SAMPLE = 10  # every 10th call has its SQL captured
REJECT_EVERY = 7
DIRECTORS, MANAGERS_EACH, REPS_EACH, FINANCE, CHECKERS = 5, 5, 4, 6, 3
ACCOUNT = "customers.account"
PASSWORD = "Sturdy-Harbour-2026"

MANAGER = [{"type": "manager", "level": 1}]
DIRECTOR = [{"type": "manager", "level": 2}]
FINANCE_ROLE = [{"type": "role", "role": "finance"}]
OVERDUE_BY = timedelta(hours=25)


def _processes(checkers: list[User]) -> dict[str, list[dict]]:
    return {
        "any": [
            {"name": "Manager", "approvers": MANAGER},
            {"name": "Finance", "approvers": FINANCE_ROLE, "mode": "any"},
        ],
        "all": [
            {
                "name": "Checkers",
                "approvers": [{"type": "user", "user": u.pk} for u in checkers],
                "mode": "all",
            },
            {"name": "Director", "approvers": DIRECTOR},
        ],
        "escalate": [
            {"name": "Manager", "approvers": MANAGER, "sla_hours": 24, "on_overdue": "escalate"},
            {"name": "Finance", "approvers": FINANCE_ROLE},
        ],
        "auto": [
            {"name": "Manager", "approvers": MANAGER, "sla_hours": 24, "on_overdue": "approve"},
            {"name": "Director", "approvers": DIRECTOR},
        ],
    }


MIX = ("any",) * 4 + ("all",) * 3 + ("escalate",) * 2 + ("auto",)


def process_of(n: int) -> str:
    return MIX[n % len(MIX)]


# --- set-up -----------------------------------------------------------------------------------


def _person(role: Role, label: str, manager=None) -> User:
    return User.objects.create(
        email=f"{label}@bench-approvals.example", full_name=label, role=role, manager=manager
    )


def _organisation() -> dict:
    roles = {code: Role.objects.get(code=code) for code in ("sales_manager", "sales_rep", "finance")}
    reps = []
    for d in range(DIRECTORS):
        director = _person(roles["sales_manager"], f"director{d}")
        for m in range(MANAGERS_EACH):
            manager = _person(roles["sales_manager"], f"manager{d}-{m}", director)
            reps += [_person(roles["sales_rep"], f"rep{d}-{m}-{r}", manager) for r in range(REPS_EACH)]
    finance = [_person(roles["finance"], f"finance{n}") for n in range(FINANCE)]
    checkers = [_person(roles["sales_manager"], f"checker{n}") for n in range(CHECKERS)]
    return {"reps": reps, "finance": finance, "checkers": checkers}


def _set_up(count: int) -> dict:
    """The organisation, processes, accounts, and `count` submitted requests; times each part."""
    admin = User.objects.get(is_superuser=True)
    timings = {}
    start = time.perf_counter()
    people = _organisation()
    for key, steps in _processes(people["checkers"]).items():
        services.save_process(
            actor=admin, key=key, object=ACCOUNT, name=f"Bench {key}", definition={"steps": steps}
        )
    reps = people["reps"]
    accounts = []
    for n in range(count):
        record = Account(name=f"客户 {n}")
        record.place(owner=reps[n % len(reps)])
        accounts.append(record)
    Account.objects.bulk_create(accounts, batch_size=1000)
    timings["organisation_processes_accounts_s"] = round(time.perf_counter() - start, 1)

    submits, past, plan = [], timezone.now() - OVERDUE_BY, {}
    start = time.perf_counter()
    for n, record in enumerate(accounts):
        key = process_of(n)
        began = time.perf_counter()
        request = engine.submit(
            actor=reps[n % len(reps)],
            object_key=ACCOUNT,
            record_id=record.pk,
            process=key,
            now=past if key in ("escalate", "auto") else None,
        )
        submits.append((time.perf_counter() - began) * 1000)
        plan[request.pk] = (key, n % REJECT_EVERY == 0)
    timings["submit_s"] = round(time.perf_counter() - start, 1)
    timings["submit"] = summarize(submits)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE workflows_approvalrequest, workflows_approvaltask, workflows_approvalevent, "
            "workflows_notification, customers_account, accounts_user"
        )
    return {"plan": plan, "timings": timings}


# --- driving ----------------------------------------------------------------------------------


class Driver:
    """Calls the engine, timing each call by what it did; every SAMPLE-th call is captured
    instead (its statements, their time and the COMMIT's), and left out of the latencies."""

    def __init__(self):
        self.samples_ms = defaultdict(list)  # kind -> ms of each timed call
        self.captured = defaultdict(list)  # kind -> (statements, ms in SQL, ms in COMMIT, ms in all)
        self.example = {}  # kind -> the statements of one captured call
        self.calls = 0

    def call(self, kind_of, function, *args, **kwargs):
        self.calls += 1
        if self.calls % SAMPLE:
            began = time.perf_counter()
            value = function(*args, **kwargs)
            self.samples_ms[kind_of(value)].append((time.perf_counter() - began) * 1000)
            return value
        reset_queries()  # DEBUG's log keeps the last 9,000 only: a full one would capture nothing
        durations = []

        def timed(execute, sql, params, many, context):
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                durations.append(time.perf_counter() - began)

        began = time.perf_counter()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
            value = function(*args, **kwargs)
        total = (time.perf_counter() - began) * 1000
        kind = kind_of(value)
        queries = captured.captured_queries
        # Statements through the cursor, timed here; BEGIN and COMMIT only in Django's log (1 ms steps).
        in_sql = sum(durations) * 1000
        in_commit = sum(float(q["time"]) for q in queries if q["sql"] == "COMMIT") * 1000
        self.captured[kind].append((len(queries), in_sql, in_commit, total))
        self.example.setdefault(kind, [q["sql"] for q in queries])
        return value


def _escalate(driver: Driver) -> tuple[int, float]:
    overdue = list(
        ApprovalTask.objects.filter(status="pending", due_at__lte=timezone.now())
        .order_by("due_at", "id")
        .values_list("pk", flat=True)
    )
    start = time.perf_counter()
    for task_id in overdue:
        driver.call(lambda outcome: f"escalation: {outcome}", deadlines.handle_overdue, task_id)
    return len(overdue), time.perf_counter() - start


def _decision_kind(step: int):
    def kind_of(request) -> str:
        if request.status != "pending":
            return f"decision: request {request.status}"
        return "decision: " + ("next step opened" if request.step != step else "step still open")

    return kind_of


def _decide(driver: Driver, plan: dict, users: dict[int, User]) -> tuple[int, float, int]:
    steps = {key: len(definition) for key, definition in _processes([]).items()}
    decisions, rounds = 0, 0
    start = time.perf_counter()
    while True:
        pending = list(
            ApprovalTask.objects.filter(status="pending")
            .order_by("request_id", "id")
            .values_list("request_id", "approver_id", "step", "request__version__definition")
        )
        if not pending:
            break
        rounds += 1
        for request_id, tasks in itertools.groupby(pending, key=lambda row: row[0]):
            tasks = list(tasks)
            step, definition = tasks[0][2], tasks[0][3]
            key, rejected = plan[request_id]
            answer = engine.reject if rejected and step == steps[key] - 1 else engine.approve
            deciders = tasks if definition["steps"][step]["mode"] == "all" else tasks[:1]
            for _request, approver_id, _step, _definition in deciders:
                driver.call(_decision_kind(step), answer, actor=users[approver_id], request=request_id)
                decisions += 1
    return decisions, time.perf_counter() - start, rounds


def _verify(count: int) -> dict:
    statuses = Counter(ApprovalRequest.objects.values_list("status", flat=True))
    events = Counter(ApprovalEvent.objects.values_list("kind", flat=True))
    return {
        "requests": dict(statuses),
        "pending_tasks": ApprovalTask.objects.filter(status="pending").count(),
        "events": dict(events),
        "notifications": Notification.objects.count(),
        "all_done": statuses.get("pending", 0) == 0 and sum(statuses.values()) == count,
    }


# --- run and report ---------------------------------------------------------------------------


def run(quick: bool) -> dict:
    call_command("migrate_schemas", shared=True, executor="standard", interactive=False, verbosity=0)
    template.refresh()
    app.conf.task_always_eager = True  # no worker and no broker: anything queued runs here
    count = QUICK_REQUESTS if quick else REQUESTS
    tenant = tenant_services.sign_up(
        company_name="Bench approvals",
        slug="bench-approvals",
        admin_name="Bench Admin",
        email="admin@bench-approvals.example",
        password=PASSWORD,
    )
    emails = []
    try:
        # The e-mail of each notification is a worker's job after the commit: counted, not sent.
        with (
            tenant_context(tenant),
            mock.patch("workflows.notify._queue", lambda schema, ids: emails.append(len(ids))),
        ):
            built = _set_up(count)
            queued_at_set_up = sum(emails)
            users = {user.pk: user for user in User.objects.all()}
            driver = Driver()
            escalations, escalate_s = _escalate(driver)
            decisions, decide_s, rounds = _decide(driver, built["plan"], users)
            verified = _verify(count)
    finally:
        connection.set_schema_to_public()
        template.drop_schema(tenant.schema_name)
        Tenant.objects.filter(pk=tenant.pk).delete()
    drive_s = escalate_s + decide_s
    return {
        "requests": count,
        "mix": dict(Counter(key for key, _rejected in built["plan"].values())),
        "set_up": built["timings"],
        "escalations": escalations,
        "escalate_s": round(escalate_s, 2),
        "decisions": decisions,
        "decide_s": round(decide_s, 2),
        "rounds": rounds,
        "drive_s": round(drive_s, 2),
        "requests_per_s": round(count / drive_s, 1),
        "decisions_per_s": round(decisions / decide_s, 1),
        "escalations_per_s": round(escalations / escalate_s, 1) if escalate_s else None,
        "calls": {
            kind: _call_figures(driver, kind) for kind in sorted({*driver.samples_ms, *driver.captured})
        },
        "latency": {
            family: summarize(
                [ms for kind, v in driver.samples_ms.items() if kind.startswith(family) for ms in v]
            )
            for family in ("decision", "escalation")
        },
        "examples": driver.example,
        "emails_queued": {"set_up": queued_at_set_up, "total": sum(emails)},
        "verified": verified,
    }


def _median(values) -> float:
    return round(statistics.median(values), 1) if values else None


def _call_figures(driver: Driver, kind: str) -> dict:
    captured = driver.captured.get(kind, [])
    timed = summarize(driver.samples_ms[kind]) if driver.samples_ms.get(kind) else None
    return {
        "timed": timed,
        "captured": len(captured),
        "statements": _median([c[0] for c in captured]),
        "statements_max": max((c[0] for c in captured), default=None),
        "sql_ms": _median([c[1] for c in captured]),
        "commit_ms": round(statistics.mean(c[2] for c in captured), 1) if captured else None,
        "captured_total_ms": _median([c[3] for c in captured]),
    }


def _shape(sql: str) -> str:
    """A statement's verb and first table: "UPDATE workflows_approvaltask"."""
    sql = re.sub(r"^SELECT set_config\('pghistory\..*?true\);\s*", "", sql)  # the audit context
    verb = re.match(r"\s*(BEGIN|COMMIT|SET|SAVEPOINT|RELEASE SAVEPOINT|SELECT|INSERT|UPDATE|DELETE)", sql)
    name = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
    locking = " FOR UPDATE" if "FOR UPDATE" in sql else ""
    return f"{verb.group(1) if verb else sql[:20]} {name.group(1) if name else ''}".strip() + locking


def report(result: dict) -> str:
    setup, verified = result["set_up"], result["verified"]
    totals = [
        [
            "escalations (handle_overdue)",
            result["escalations"],
            result["escalate_s"],
            result["escalations_per_s"],
        ],
        ["decisions (approve / reject)", result["decisions"], result["decide_s"], result["decisions_per_s"]],
        [
            "requests, escalations + decisions",
            result["requests"],
            result["drive_s"],
            result["requests_per_s"],
        ],
    ]
    per_call = []
    for label, s in [
        *(("all " + f + "s", v) for f, v in result["latency"].items()),
        ("submit (set-up)", setup["submit"]),
    ]:
        per_call.append([label, s["n"], s["median_ms"], s["p95_ms"], s["max_ms"], None, None, None, None])
    for kind, f in result["calls"].items():
        t = f["timed"] or {}
        per_call.append(
            [
                f"  {kind}",
                t.get("n"),
                t.get("median_ms"),
                t.get("p95_ms"),
                t.get("max_ms"),
                f"{f['statements']:g} (max {f['statements_max']})" if f["captured"] else None,
                f["captured_total_ms"],
                f["sql_ms"],
                f["commit_ms"],
            ]
        )
    examples = []
    for kind, statements in sorted(result["examples"].items()):
        shapes = Counter(_shape(sql) for sql in statements)
        listed = ", ".join(f"{n}x {shape}" if n > 1 else shape for shape, n in shapes.items())
        examples.append(f"  {kind} ({len(statements)}): {listed}")
    return "\n".join(
        [
            f"{result['requests']:,} requests in one tenant, mix {result['mix']}; "
            f"1 in {REJECT_EVERY} rejected at its last step.",
            f"Set-up, not in the figures below: organisation, processes and accounts "
            f"{setup['organisation_processes_accounts_s']} s; {setup['submit']['n']:,} x engine.submit "
            f"{setup['submit_s']} s ({setup['submit']['n'] / setup['submit_s']:.0f} submits/s).",
            "",
            table(["driven to the end", "count", "seconds", "per second"], totals),
            f"(decisions in {result['rounds']} rounds; requests/s = requests / (escalation + decision time))",
            "",
            table(
                [
                    "per call",
                    "n timed",
                    "median ms",
                    "p95 ms",
                    "max ms",
                    "statements",
                    "captured ms",
                    "in statements ms",
                    "COMMIT ms",
                ],
                per_call,
            ),
            f"Every {SAMPLE}th call is captured and left out of the latencies: its statements "
            "(CaptureQueriesContext, BEGIN and COMMIT included; median and max), the whole call, the time "
            "inside the cursor's statements (an execute wrapper: BEGIN and COMMIT excluded), medians; and "
            "COMMIT, the mean of Django's log (which rounds to 1 ms).",
            "",
            "One captured call of each kind, statement by statement:",
            *examples,
            "",
            f"E-mail tasks after commit (counted, not run): {result['emails_queued']['total']:,} "
            f"({result['emails_queued']['set_up']:,} during set-up).",
            f"Verified: all done {verified['all_done']}; requests {verified['requests']}; pending tasks "
            f"{verified['pending_tasks']}; notifications {verified['notifications']:,}; "
            f"events {verified['events']}.",
        ]
    )

"""The data set and hot queries the query-plan tests explain (shared by SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from carecoord.storage import (
    IndexRow,
    MemoryStore,
    PostgresStore,
    RecordWrite,
    SQLiteStore,
    WorkQuery,
)

T = datetime(2026, 11, 23, 9, tzinfo=UTC)
PATIENTS = 300
STAFF = 30
PATIENT = "p-0042"
OWNER = "s-012"

# ------------------------------------------------------------------ the data


def patient_of(n: int) -> str:
    return f"p-{n:04d}"


def staff_of(n: int) -> str:
    return f"s-{n % STAFF:03d}"


def one_row(category: str, item: str, patient: str | None, owner: str, **extra: Any) -> IndexRow:
    extra.setdefault("status", "active")
    extra.setdefault("is_open", True)
    return IndexRow(category=category, item_id=item, patient_id=patient, owner_id=owner, **extra)


def dataset() -> list[RecordWrite]:
    """About 3,000 records of 7 kinds and 4,500 index rows of 7 categories."""
    writes: list[RecordWrite] = []

    def add(kind: str, record_id: str, patient: str | None, *rows: IndexRow) -> None:
        writes.append(
            RecordWrite(
                kind=kind,
                id=record_id,
                expected_version=0,
                payload=f'{{"id":"{record_id}"}}',
                patient_id=patient,
                index=rows,
            )
        )

    for n in range(PATIENTS):
        patient, owner = patient_of(n), staff_of(n)
        add("Patient", patient, patient)
        members = (one_row("member", f"m-{n}-{k}", patient, staff_of(n + k)) for k in range(3))
        add("CareTeam", f"team-{n}", patient, *members)
        tasks = (
            one_row(
                "intervention",
                f"i-{n}-{k}",
                patient,
                owner,
                status="ready",
                is_open=k % 2 == 0,
                due_at=T + timedelta(days=k),
            )
            for k in range(4)
        )
        add("CarePlan", f"plan-{n}", patient, *tasks)
        for k in range(5):  # the latest entries are not sealed yet (open)
            entry, at = f"a-{n}-{k}", T + timedelta(seconds=10 * n + k)
            unsealed = n >= PATIENTS - 2
            audit = one_row("audit", entry, patient, owner, is_open=unsealed, due_at=at)
            add("AuditEntry", entry, patient, audit)
        pending = n % 10 == 0
        add(
            "Notification",
            f"n-{n}",
            patient,
            one_row(
                "outbox",
                f"n-{n}",
                patient,
                owner,
                status="pending" if pending else "sent",
                is_open=pending,
                due_at=T + timedelta(minutes=n),
            ),
        )
        grant = one_row("emergency", f"e-{n}", patient, owner, due_at=T + timedelta(hours=n))
        add("EmergencyAccess", f"e-{n}", patient, grant)
    for n in range(STAFF):
        line = one_row("staff", staff_of(n), None, staff_of(n // 5))
        add("StaffMember", staff_of(n), None, line)
    return writes


def load(store: SQLiteStore | PostgresStore) -> None:
    writes = dataset()
    for start in range(0, len(writes), 1000):
        store.write(writes[start : start + 1000])


# ---------------------------------------------------- the statements to check
Expected = tuple[tuple[str, str], ...]
"""Acceptable (index, column the index search must constrain) pairs."""

HOT_QUERIES: dict[str, tuple[WorkQuery, Expected]] = {
    "care-team memberships of a patient": (
        WorkQuery(category="member", patient_ids=(PATIENT,)),
        (("work_by_patient", "patient_id"),),
    ),
    "emergency grants of a staff member for a patient": (
        WorkQuery(category="emergency", owner_ids=(OWNER,), patient_ids=(PATIENT,), due_from=T),
        (("work_by_owner", "owner_id"), ("work_by_patient", "patient_id")),
    ),
    "audit trail of a patient": (
        WorkQuery(category="audit", patient_ids=(PATIENT,), open_only=False),
        (("work_by_patient", "patient_id"),),
    ),
    "audit trail of a staff member": (
        WorkQuery(category="audit", owner_ids=(OWNER,), open_only=False),
        (("work_by_owner", "owner_id"),),
    ),
    "unsealed audit entries": (
        WorkQuery(category="audit", open_only=True, limit=500),
        (("work_by_due", "is_open"),),
    ),
    "interventions due for a staff member": (
        WorkQuery(category="intervention", owner_ids=(OWNER,), due_before=T + timedelta(days=2)),
        (("work_by_owner", "owner_id"),),
    ),
    "reports of a staff member": (
        WorkQuery(category="staff", owner_ids=(staff_of(1),), open_only=False),
        (("work_by_owner", "owner_id"),),
    ),
    "pending notifications due": (
        WorkQuery(
            category="outbox", statuses=("pending",), due_before=T + timedelta(days=1), limit=100
        ),
        (("work_by_due", "due_at"),),
    ),
}


def test_the_data_set_has_thousands_of_rows_and_answers_every_query() -> None:
    writes = dataset()
    assert len(writes) > 3000
    assert sum(len(w.index) for w in writes) > 4000
    store = MemoryStore()
    store.write(writes)
    for name, (query, _) in HOT_QUERIES.items():
        assert store.query(query), name


# ------------------------------------- more shapes the service issues (SQLite)
# Additions used by the SQLite plan tests: the worklist categories with
# several priorities, rows without a due time, and the query shapes of
# service/worklists.py, service/_access.py, service/sealing.py, service/tick.py
# and outbox.py that HOT_QUERIES does not cover.
REPORTS = tuple(staff_of(n) for n in range(10, 16))
"""A supervisor's reporting line (several owners in one query)."""
CASELOAD = tuple(patient_of(n) for n in range(40, 52))
"""A team's caseload (several patients in one query)."""


def service_dataset() -> list[RecordWrite]:
    """About 1,200 more records: reviews, referrals, goals, contacts and prioritised work."""
    writes: list[RecordWrite] = []
    for n in range(PATIENTS):
        patient, owner = patient_of(n), staff_of(n)
        rows = [
            one_row(
                "intervention",
                f"x-{n}-{k}",
                patient,
                staff_of(n + k),
                status="requested",
                priority=k % 4,
                due_at=None if k == 3 else T + timedelta(hours=5 * k - n % 48),
            )
            for k in range(4)
        ]
        rows.append(one_row("review", f"r-{n}", patient, owner, due_at=T + timedelta(days=n % 9)))
        rows.append(
            one_row(
                "referral",
                f"f-{n}",
                patient,
                owner,
                status="sent",
                changed_at=T - timedelta(days=n % 20),
            )
        )
        rows.append(one_row("goal", f"g-{n}", patient, owner, priority=n % 3, detail="off-track"))
        writes.append(
            RecordWrite(
                kind="Worklisted",
                id=f"w-{n}",
                expected_version=0,
                payload="{}",
                patient_id=patient,
                index=tuple(rows),
            )
        )
        contact = one_row(
            "contact",
            f"c-{n}",
            patient,
            owner,
            status="completed",
            is_open=False,
            changed_at=T - timedelta(days=n % 40),
            detail="patient",
        )
        writes.append(
            RecordWrite(
                kind="Contact",
                id=f"c-{n}",
                expected_version=0,
                payload="{}",
                patient_id=patient,
                index=(contact,),
            )
        )
        # metric-fact rows (never open, no owner): a contact instant, a plan's span
        at = T - timedelta(days=n % 90)
        done = T - timedelta(days=n % 60)
        facts = (
            IndexRow(
                category="completed",
                item_id=f"x-{n}-0",
                patient_id=patient,
                owner_id=owner,
                status="completed",
                is_open=False,
                due_at=done,
                changed_at=done,
                detail="clinical-procedure",
            ),
            IndexRow(
                category="protocol",
                item_id=f"x-{n}-0",
                patient_id=patient,
                owner_id=owner,
                status="complete" if n % 7 else "incomplete",
                is_open=False,
                due_at=done,
                changed_at=done,
                detail=f"w-{n}",
            ),
            IndexRow(
                category="metric-contact",
                item_id=f"c-{n}",
                patient_id=patient,
                owner_id=None,
                status="facts-1",
                is_open=False,
                changed_at=at,
                due_at=at,
                detail="0",
            ),
            IndexRow(
                category="metric-plan",
                item_id=f"p-{n}",
                patient_id=patient,
                owner_id=None,
                status="facts-1",
                is_open=False,
                changed_at=T - timedelta(days=n % 120),
                due_at=T + timedelta(days=n % 60 - 45),
                detail="{}",
            ),
        )
        writes.append(
            RecordWrite(
                kind="Facts",
                id=f"mf-{n}",
                expected_version=0,
                payload="{}",
                patient_id=patient,
                index=facts,
            )
        )
        if n % 25 == 0:
            failed = one_row(
                "outbox", f"nf-{n}", patient, owner, status="failed", is_open=False, due_at=T
            )
            writes.append(
                RecordWrite(
                    kind="Notification",
                    id=f"nf-{n}",
                    expected_version=0,
                    payload="{}",
                    patient_id=patient,
                    index=(failed,),
                )
            )
    return writes


SERVICE_QUERIES: dict[str, tuple[WorkQuery, Expected]] = {
    "overdue interventions of a staff member, first 100": (
        WorkQuery(category="intervention", owner_ids=(OWNER,), due_before=T, limit=100),
        (("work_by_owner", "owner_id"),),
    ),
    "interventions due for a staff member, prioritised": (
        WorkQuery(category="intervention", owner_ids=(OWNER,), due_before=T + timedelta(days=3)),
        (("work_by_owner", "owner_id"),),
    ),
    "supervisor worklist: interventions due": (
        WorkQuery(category="intervention", owner_ids=REPORTS, due_before=T + timedelta(days=1)),
        (("work_by_owner", "owner_id"),),
    ),
    "supervisor worklist: goals": (
        WorkQuery(category="goal", owner_ids=REPORTS),
        (("work_by_owner", "owner_id"),),
    ),
    "supervisor worklist: care-team memberships": (
        WorkQuery(category="member", owner_ids=REPORTS),
        (("work_by_owner", "owner_id"),),
    ),
    "team worklist: reviews due": (
        WorkQuery(category="review", patient_ids=CASELOAD, due_before=T + timedelta(days=4)),
        (("work_by_patient", "patient_id"),),
    ),
    "team worklist: completed contacts": (
        WorkQuery(
            category="contact", patient_ids=CASELOAD, open_only=False, statuses=("completed",)
        ),
        (("work_by_patient", "patient_id"),),
    ),
    "worklist: referrals of a staff member": (
        WorkQuery(category="referral", owner_ids=(OWNER,)),
        (("work_by_owner", "owner_id"),),
    ),
    "reporting line of a staff member": (
        WorkQuery(category="staff", owner_ids=(staff_of(0), staff_of(1)), open_only=False),
        (("work_by_owner", "owner_id"),),
    ),
    "emergency grants of a staff member": (
        WorkQuery(category="emergency", owner_ids=(OWNER,), due_from=T),
        (("work_by_owner", "owner_id"),),
    ),
    "tick: overdue interventions": (
        WorkQuery(category="intervention", due_before=T),
        (("work_by_due", "due_at"),),
    ),
    "tick: reviews due": (
        WorkQuery(category="review", due_before=T + timedelta(days=2)),
        (("work_by_due", "due_at"),),
    ),
    "tick: stalled referrals": (
        WorkQuery(category="referral", changed_before=T - timedelta(days=10)),
        (("work_by_due", "is_open"),),
    ),
    "audit verification: every entry": (
        WorkQuery(category="audit", open_only=False),
        (("work_by_due", "is_open"),),
    ),
    "outbox: failed notifications": (
        WorkQuery(category="outbox", statuses=("failed",), open_only=False),
        (("work_by_due", "is_open"),),
    ),
    "outbox: notifications of a patient": (
        WorkQuery(category="outbox", patient_ids=(PATIENT,), open_only=False),
        (("work_by_patient", "patient_id"),),
    ),
    "metrics: first contacts in a period": (
        WorkQuery(
            category="metric-contact",
            open_only=False,
            due_from=T - timedelta(days=30),
            due_before=T,
        ),
        (("work_by_due", "due_at"),),
    ),
    "metrics: plans around a period": (
        WorkQuery(
            category="metric-plan",
            open_only=False,
            changed_before=T + timedelta(days=1),
            due_from=T - timedelta(days=31),
        ),
        (("work_by_due", "due_at"),),
    ),
    "is there any staff member": (
        WorkQuery(category="staff", open_only=False, limit=1),
        (("work_by_due", "is_open"),),
    ),
}
"""Query shapes of the service beyond HOT_QUERIES (data: ``dataset() + service_dataset()``)."""


PERIOD_QUERIES: dict[str, tuple[WorkQuery, Expected]] = {
    "protocol compliance: a staff member's completed work in a period": (
        WorkQuery(
            category="completed",
            owner_ids=(OWNER,),
            open_only=False,
            due_from=T - timedelta(days=30),
            due_before=T,
        ),
        (("work_by_owner", "due_at"),),
    ),
    "protocol compliance: a staff member's complete checklists in a period": (
        WorkQuery(
            category="protocol",
            owner_ids=(OWNER,),
            statuses=("complete",),
            open_only=False,
            due_from=T - timedelta(days=30),
            due_before=T,
        ),
        (("work_by_owner", "due_at"),),
    ),
}
"""A staff member's work in a period (protocol compliance), checked on SQLite: each band
of the owner's rows is one range. PostgreSQL may read the period's rows of every owner
from ``work_by_due`` when its statistics say so (still bounded by the period)."""

"""One write batch of :class:`~carecoord.storage.PostgresStore`, as a pipeline of set-based SQL.

Private to the PostgreSQL store (it needs the ``postgres`` extra). A batch is
one pipeline of two round trips, whatever its size:

1. ``BEGIN`` and ``READ COMMITTED``; every create in one ``INSERT ... SELECT
   FROM unnest(...) ON CONFLICT DO NOTHING RETURNING``; every update as one
   version-checked ``UPDATE ... RETURNING`` per record (pipelined). A record
   that returned no row is a conflict: :class:`~carecoord.ConflictError` names
   the first in (kind, id) order and the transaction rolls back;
2. the updated records' old index rows go in one ``DELETE ... USING unnest``,
   every new index row comes in one ``INSERT ... SELECT FROM unnest(...)``,
   then ``COMMIT``.

Creates and updates each run in (kind, id) order (the batch arrives sorted), so
two writers never wait for each other crosswise. No statement runs a
subtransaction per row: ``document`` is ``payload::jsonb``, and a batch whose
payload jsonb refuses is written again ``careful``-ly (see ``_pg_sql.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from ..model import ConflictError
from ._pg_sql import Statements
from .port import RecordWrite

__all__ = ["write_batch"]


def write_batch(
    conn: psycopg.Connection[Any],
    statements: Statements,
    batch: Sequence[RecordWrite],
    progress: list[str],
    *,
    careful: bool = False,
) -> None:
    """Write ``batch`` (sorted by (kind, id), no record twice) in one transaction."""
    creates = [w for w in batch if w.expected_version == 0]
    updates = [w for w in batch if w.expected_version != 0]
    with conn.pipeline() as pipeline, conn.transaction():
        conn.execute(statements.read_committed)
        created = None
        if creates:
            created = conn.execute(
                statements.insert[careful],
                (
                    [w.kind for w in creates],
                    [w.id for w in creates],
                    [w.patient_id for w in creates],
                    [w.payload for w in creates],
                ),
            )
        updated = None
        if updates:
            updated = conn.cursor()
            updated.executemany(
                statements.update[careful],
                [
                    {
                        "patient_id": w.patient_id,
                        "payload": w.payload,
                        "kind": w.kind,
                        "id": w.id,
                        "expected": w.expected_version,
                    }
                    for w in updates
                ],
                returning=True,
            )
        pipeline.sync()  # the first round trip: a server error is raised here
        refused: set[tuple[str, str]] = set()
        if created is not None:
            written = set(created.fetchall())
            refused.update((w.kind, w.id) for w in creates if (w.kind, w.id) not in written)
        if updated is not None:
            for w in updates:
                if updated.fetchone() is None:
                    refused.add((w.kind, w.id))
                updated.nextset()
        for w in batch:  # name the first refused record in (kind, id) order
            if (w.kind, w.id) in refused:
                raise ConflictError(w.kind, w.id, w.expected_version)
        if updates:
            conn.execute(
                statements.delete_rows, ([w.kind for w in updates], [w.id for w in updates])
            )
        rows = _row_columns(batch)
        if rows[0]:
            conn.execute(statements.insert_rows, rows)
        progress.append("committing")  # leaving the blocks commits


def _row_columns(batch: Sequence[RecordWrite]) -> tuple[list[Any], ...]:
    """The batch's index rows as one list per column (``insert_rows`` order)."""
    columns: tuple[list[Any], ...] = tuple([] for _ in range(13))
    (kinds, ids, versions, categories, items, patients, owners) = columns[:7]
    (statuses, opens, priorities, dues, changes, details) = columns[7:]
    for w in batch:
        version = w.expected_version + 1
        for row in w.index:
            kinds.append(w.kind)
            ids.append(w.id)
            versions.append(version)
            categories.append(row.category)
            items.append(row.item_id)
            patients.append(row.patient_id)
            owners.append(row.owner_id)
            statuses.append(row.status)
            opens.append(row.is_open)
            priorities.append(row.priority)
            dues.append(row.due_at)
            changes.append(row.changed_at)
            details.append(row.detail)
    return columns

"""The storage conformance suite: every :class:`~carecoord.storage.Store` must pass it.

Subclass :class:`StoreContract` in your own tests and implement
:meth:`StoreContract.make_store`; pytest then collects every contract test for
your adapter::

    from carecoord.testing.store import StoreContract, make_stateful_test

    class TestMyStore(StoreContract):
        def make_store(self) -> Store:
            return MyStore(...)

    TestMyStoreStateful = make_stateful_test(lambda: MyStore(...)).TestCase

:meth:`StoreContract.make_store` may use ``self.tmp_path`` (a fresh
directory per test). Each test closes the stores it made.

The suite covers round trips of every aggregate through
:class:`~carecoord.storage.UnitOfWork`, versions and conflicts, atomic batches,
rollback, isolation between units of work, worklist filtering and ordering,
time-zone preservation, closing, and concurrent writers on several threads.
:func:`make_stateful_test` drives a store against a plain reference model
through random sequences of operations (Hypothesis ``RuleBasedStateMachine``).

The suite is made of one mixin per theme, combined here:
``_store_records`` (records, versions, conflicts), ``_store_index`` (index rows
and queries), ``_store_uow`` (aggregates through the unit of work) and
``_store_concurrency`` (concurrent writers), all built on the fixtures and data
builders of ``_store_data``; the state machine lives in ``_store_stateful``.

Needs the ``testing`` extra: ``pip install carecoord[testing]``.
"""

from __future__ import annotations

import pytest

# Plain asserts in the suite get pytest's detailed messages wherever
# ``carecoord.testing.store`` is used; registered before the parts are imported.
pytest.register_assert_rewrite(
    "carecoord.testing._store_records",
    "carecoord.testing._store_index",
    "carecoord.testing._store_uow",
    "carecoord.testing._store_concurrency",
    "carecoord.testing._store_stateful",
)

from ._store_concurrency import ConcurrencyContract  # noqa: E402
from ._store_index import IndexContract  # noqa: E402
from ._store_records import RecordContract  # noqa: E402
from ._store_stateful import make_stateful_test  # noqa: E402
from ._store_uow import UnitOfWorkContract  # noqa: E402

__all__ = ["StoreContract", "make_stateful_test"]


# Bases last-first: pytest collects inherited tests base-most first, so the
# suite runs records, index, unit of work, then concurrency.
class StoreContract(ConcurrencyContract, UnitOfWorkContract, IndexContract, RecordContract):
    """The contract tests every store passes. Subclass and implement :meth:`make_store`.

    :meth:`make_store` may use ``self.tmp_path``; the concurrency tests run
    :attr:`threads` writer threads of :attr:`updates_per_thread` rounds each
    (class attributes, override to taste).
    """

"""Records to and from the port's plain data: the one place a stored payload is read or written.

Used by :class:`~carecoord.storage.UnitOfWork`, :func:`~carecoord.storage.copy_store`
and the benchmarks, so every path serializes, indexes and reports errors alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs
import cattrs

from .. import _json
from .._fastcodec import Declined, decode_trusted, field_decoder
from ..model import CareCoordError, CarePlan, StorageError, StructureError, ValidationError
from ..model._base import TRANSIENT
from ..serialization import SCHEMA_VERSION, _payload_text, from_payload
from .port import RecordWrite, StoredRecord
from .records import index_rows, kind_of, patient_id_of

__all__ = ["PartReader", "RecordPart", "decode_record", "encode_record", "guard_port", "part_of"]

R = TypeVar("R")
T = TypeVar("T")


def guard_port(action: str, call: Callable[[], R]) -> R:
    """Run one store call; an adapter's leaked non-carecoord error becomes StorageError."""
    try:
        return call()
    except CareCoordError:
        raise
    except Exception as exc:
        raise StorageError(f"the store failed to {action}") from exc


def decode_record(
    stored: StoredRecord,
    cls: type[R],
    *,
    converter: cattrs.Converter | None = None,
    purpose: str = "read",
) -> R:
    """The model object in ``stored``; StorageError naming kind, id and version otherwise.

    The message never quotes the payload, and the JSON decoder's own error
    (which keeps the whole document, PHI included) is not chained.

    With the default converter the payload is first read by the trusted
    decoder (:mod:`carecoord._fastcodec`: what carecoord wrote is not validated
    again in full; its shape, codes, ids, zones and cross-field rules are).
    Whatever it declines, and everything with a host converter, goes through
    :func:`~carecoord.from_payload` and its full validation, read by the
    standard library's JSON decoder as before the fast path existed: damaged
    data raises the same errors.
    """
    record: Any = None
    if converter is None:
        payload = _read(stored, purpose, _json.loads)
        record = _trusted(payload, cls)
        if record is None and _json.backend() != "stdlib":
            # orjson reads an integer beyond 64 bits as a float: read the text
            # as the validated path always did.
            payload = _read(stored, purpose, _json.stdlib_loads)
    else:
        payload = _read(stored, purpose, _json.stdlib_loads)
    if record is None:
        try:
            record = from_payload(payload, cls, converter=converter)
        except (StructureError, ValidationError) as exc:  # field paths only, never values
            raise StorageError(_where(stored, purpose)) from exc
        except Exception as exc:
            # A host converter's hook failed in its own way; its message may quote
            # the payload, so only the error type is kept.
            raise StorageError(f"{_where(stored, purpose)}: {type(exc).__name__}") from None
    decoded_type: type[Any] = type(record)
    if _revisioned(decoded_type):
        # The copy carries the version it was read at (a transient field, never
        # stored); the object is new and not yet shared, so setting it is safe.
        object.__setattr__(record, "revision", stored.version)
    return record  # type: ignore[no-any-return]


def _where(stored: StoredRecord, purpose: str) -> str:
    """What a StorageError about ``stored`` says first (kind, id and version, never data)."""
    return f"stored {stored.kind} {stored.id} at version {stored.version} cannot be {purpose}"


def _read(stored: StoredRecord, purpose: str, read: Callable[[str], Any]) -> Any:
    """The JSON value of a stored payload; StorageError (not chained) when it is not JSON."""
    try:
        return read(stored.payload)
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON at position {exc.pos}"
    except RecursionError:
        problem = "JSON nested too deeply"
    except (ValueError, TypeError):  # a too long integer; a payload that is not text
        problem = "unreadable JSON"
    raise StorageError(f"{_where(stored, purpose)}: {problem}") from None


def _trusted(payload: Any, cls: type[R]) -> R | None:
    """``cls`` from a payload carecoord wrote, or ``None`` when the trusted decoder declines."""
    if (
        payload.__class__ is not dict
        or payload.get("type") != cls.__name__
        or payload.get("schema_version").__class__ is not int
        or payload["schema_version"] != SCHEMA_VERSION
    ):
        return None  # not a payload, or an older version: upgraded on the validated path
    try:
        return decode_trusted(payload.get("data"), cls)
    except Declined:
        return None


_REVISIONED: dict[type[Any], bool] = {}


def _revisioned(cls: type[Any]) -> bool:
    """Whether ``cls`` has the transient ``revision`` field (cached per class)."""
    known = _REVISIONED.get(cls)
    if known is None:
        known = _REVISIONED[cls] = attrs.has(cls) and any(
            f.name == "revision" and f.metadata.get(TRANSIENT) for f in attrs.fields(cls)
        )
    return known


def encode_record(
    record: object,
    expected_version: int,
    *,
    converter: cattrs.Converter | None = None,
    payload: str | None = None,
) -> RecordWrite:
    """A version-checked write of ``record``: compact, key-sorted JSON plus its index rows.

    ``payload`` keeps an already serialized text as it is (a copy between stores).
    """
    if payload is None:
        payload = _payload_text(record, converter=converter)
    return RecordWrite(
        kind=kind_of(record),
        id=str(record.id),  # type: ignore[attr-defined]
        expected_version=expected_version,
        payload=payload,
        patient_id=patient_id_of(record),
        index=index_rows(record),
    )


# ------------------------------------------------------------------ parts


@attrs.frozen
class RecordPart(Generic[T]):
    """One element of a record's list field (an intervention of a care plan), with the
    record's typed ``record_id`` and ``patient_id`` (``None`` for a record of no patient)."""

    record_id: Any
    patient_id: Any
    item: T


def part_of(record: Any, field: str, item_id: str) -> RecordPart[Any] | None:
    """The element of ``record.<field>`` whose id is ``item_id`` (the first), or ``None``."""
    for item in getattr(record, field):
        if item.id == item_id:
            return RecordPart(record.id, getattr(record, "patient_id", None), item)
    return None


def _goals_linked(data: dict[str, Any], item: Any) -> bool:
    """CarePlan's rule for one intervention: it links only goals of the plan."""
    if not item.goal_ids:
        return True
    goals = {goal["id"] for goal in data["goals"]}  # junk raises: declined
    return all(goal_id in goals for goal_id in item.goal_ids)


def _needs_addressed(data: dict[str, Any], item: Any) -> bool:
    """CarePlan's rule for one goal: it addresses only needs the plan addresses."""
    return not item.addresses or set(item.addresses) <= set(data["addresses"])


_PART_RULES: dict[tuple[type[Any], str], Callable[[dict[str, Any], Any], bool]] = {
    (CarePlan, "interventions"): _goals_linked,
    (CarePlan, "goals"): _needs_addressed,
}
"""The parts :class:`PartReader` reads, with the record's rule that involves such a part."""


class PartReader:
    """Reads parts of one stored record without decoding the rest (its payload parsed once).

    Only what the trusted decoder vouches for is read this way: the envelope,
    the record's ``id`` and ``patient_id``, and the element asked for, with
    the rules of the record that involve it (the goals an intervention links
    are the plan's). The rest of the payload is not decoded, so damage there
    is not seen here; a full read (:func:`decode_record`) still reports it.
    Whatever the trusted decoder declines (a host converter, an older schema
    version, text that is not JSON, a part that is not there or not as
    carecoord writes it) gives ``None``: read the whole record, whose errors
    are :func:`decode_record`'s.
    """

    def __init__(
        self, stored: StoredRecord, cls: type[Any], *, converter: cattrs.Converter | None = None
    ) -> None:
        self.stored = stored
        """The stored record the parts are read from."""
        self._cls = cls
        self._data: dict[str, Any] | None = None
        if converter is not None:
            return
        try:
            payload = _json.loads(stored.payload)
        except Exception:  # not JSON: the whole read says what is wrong
            return
        if (
            payload.__class__ is dict
            and payload.get("type") == cls.__name__
            and payload.get("schema_version").__class__ is int
            and payload["schema_version"] == SCHEMA_VERSION
            and payload.get("data").__class__ is dict
        ):
            self._data = payload["data"]

    def part(self, field: str, item_id: str, item_cls: type[T]) -> RecordPart[T] | None:
        """The element of ``field`` whose id is ``item_id``, read on its own; ``None``
        when the trusted decoder does not vouch for it (see the class documentation)."""
        data = self._data
        rule = _PART_RULES.get((self._cls, field))
        if data is None or rule is None:
            return None
        try:
            decode = field_decoder(self._cls, field, element=True)
            for raw in data[field]:
                if raw.__class__ is dict and raw.get("id") == item_id:
                    item = decode(raw)
                    break
            else:
                return None  # not there: the whole record decides
            if item.__class__ is not item_cls or not rule(data, item):
                return None
            record_id = field_decoder(self._cls, "id")(data["id"])
            patient_id = field_decoder(self._cls, "patient_id")(data["patient_id"])
        except Exception:  # Declined, Unsupported, or what the decoders raise for data
            return None  # they do not vouch for
        return RecordPart(record_id, patient_id, item)

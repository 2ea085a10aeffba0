"""Records to and from the port's plain data: the one place a stored payload is read or written.

Used by :class:`~carecoord.storage.UnitOfWork`, :func:`~carecoord.storage.copy_store`
and the benchmarks, so every path serializes, indexes and reports errors alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs

from .. import _json
from .._fastcodec import Declined, decode_trusted
from ..model import CareCoordError, StorageError, StructureError, ValidationError
from ..model._base import TRANSIENT
from ..serialization import SCHEMA_VERSION, _payload_text, from_payload
from .port import RecordWrite, StoredRecord
from .records import index_rows, kind_of, patient_id_of

__all__ = ["decode_record", "encode_record", "guard_port"]

R = TypeVar("R")


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
    where = f"stored {stored.kind} {stored.id} at version {stored.version} cannot be {purpose}"
    record: Any = None
    if converter is None:
        payload = _read(stored.payload, where, _json.loads)
        record = _trusted(payload, cls)
        if record is None and _json.backend() != "stdlib":
            # orjson reads an integer beyond 64 bits as a float: read the text
            # as the validated path always did.
            payload = _read(stored.payload, where, _json.stdlib_loads)
    else:
        payload = _read(stored.payload, where, _json.stdlib_loads)
    if record is None:
        try:
            record = from_payload(payload, cls, converter=converter)
        except (StructureError, ValidationError) as exc:  # field paths only, never values
            raise StorageError(where) from exc
        except Exception as exc:
            # A host converter's hook failed in its own way; its message may quote
            # the payload, so only the error type is kept.
            raise StorageError(f"{where}: {type(exc).__name__}") from None
    decoded_type: type[Any] = type(record)
    if _revisioned(decoded_type):
        # The copy carries the version it was read at (a transient field, never
        # stored); the object is new and not yet shared, so setting it is safe.
        object.__setattr__(record, "revision", stored.version)
    return record  # type: ignore[no-any-return]


def _read(text: str, where: str, read: Callable[[str], Any]) -> Any:
    """The JSON value of a stored payload; StorageError (not chained) when it is not JSON."""
    try:
        return read(text)
    except json.JSONDecodeError as exc:
        raise StorageError(f"{where}: invalid JSON at position {exc.pos}") from None
    except RecursionError:
        raise StorageError(f"{where}: JSON nested too deeply") from None
    except (ValueError, TypeError):  # a too long integer; a payload that is not text
        raise StorageError(f"{where}: unreadable JSON") from None


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

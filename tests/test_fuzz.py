"""Mutation fuzzing of every input edge: a rejection is always a typed, path-named error.

Valid inputs are generated (``carecoord.testing.strategies`` for the stored
record types, exported Bundles of generated records for FHIR, argv built from
the CLI's own options), then damaged: keys deleted or added, values replaced
by other JSON types, wrapped in arrays, nested absurdly deep, huge integers,
datetimes at the ends of the calendar, ids with spaces, text that is not
UTF-8. Whatever comes in, carecoord either reads it or raises a
:class:`~carecoord.CareCoordError` subclass whose ``paths`` / ``path`` /
``field`` name the place and whose message never echoes the damaged value;
the command line exits with a status code, never a traceback.

Budget: the number of examples follows the Hypothesis profile
(``tests/conftest.py``). Under ``HYPOTHESIS_PROFILE=ci`` the examples are
fixed (derandomized) and the file runs in well under 40 s; the opt-in long run
is ``HYPOTHESIS_PROFILE=thorough pytest tests/test_fuzz.py`` (ten times as
many examples, no deadline).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from _budget import examples
from carecoord import (
    CareCoordError,
    FhirImportError,
    PatientId,
    StaffId,
    StorageError,
    StructureError,
    from_payload,
    loads,
    to_payload,
)
from carecoord.cli import main
from carecoord.fhir import ImportedRecord, export_bundle, import_bundle
from carecoord.model.access import EmergencyAccess
from carecoord.model.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditOutcome,
    PurposeOfUse,
)
from carecoord.model.codes import ContactChannel
from carecoord.model.outbox import DeliveryStatus, Notification, RecipientKind, TimedEventMarker
from carecoord.storage import RECORD_TYPES
from carecoord.storage._codec import decode_record
from carecoord.storage.port import StoredRecord
from carecoord.testing import strategies as cs
from test_fhir_roundtrip import patient_records

T = TypeVar("T")
JsonPath = tuple[str | int, ...]

# ------------------------------------------------------------------- budget


def _fuzz(base: int) -> settings:
    return settings(
        max_examples=examples(base),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --------------------------------------------------- every stored record type

_TEXT_ID = st.text("abcXYZ019-_.:", min_size=1, max_size=12)
_HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
_DT = cs.AWARE_DATETIMES


@st.composite
def emergency_accesses(draw: st.DrawFn) -> EmergencyAccess:
    granted = draw(_DT)
    reviewed = draw(st.booleans())
    return EmergencyAccess(
        id=draw(_TEXT_ID),
        staff_id=draw(cs.ids(StaffId)),
        patient_id=draw(cs.ids(PatientId)),
        reason=draw(cs.texts()),
        granted_at=granted,
        expires_at=cs.later(granted, draw(cs.POSITIVE_DURATIONS)),
        reviewer_id=draw(cs.optional(cs.ids(StaffId))),
        reviewed_by=draw(cs.ids(StaffId)) if reviewed else None,
        reviewed_at=draw(_DT) if reviewed else None,
    )


@st.composite
def audit_entries(draw: st.DrawFn) -> AuditEntry:
    entry = AuditEntry.create(
        at=draw(_DT),
        actor=draw(_TEXT_ID),
        action=draw(st.sampled_from(list(AuditAction))),
        operation=draw(st.sampled_from(["get_patient", "tick"])),
        outcome=draw(st.sampled_from(list(AuditOutcome))),
        purpose=draw(st.sampled_from(list(PurposeOfUse))),
        patient_id=draw(cs.optional(_TEXT_ID)),
        entity=draw(cs.optional(st.just("CarePlan/plan-1"))),
        detail=draw(cs.optional(st.just("AccessDeniedError"))),
    )
    if draw(st.booleans()):
        entry = entry.seal(
            draw(st.integers(1, 10**6)), draw(_HEX64 | st.just(GENESIS_HASH)), sealed_at=draw(_DT)
        )
    return entry


@st.composite
def audit_heads(draw: st.DrawFn) -> AuditHead:
    return AuditHead(
        sequence=draw(st.integers(0, 10**6)), hash=draw(_HEX64), sealed_at=draw(cs.optional(_DT))
    )


@st.composite
def audit_checkpoints(draw: st.DrawFn) -> AuditCheckpoint:
    return AuditCheckpoint.create(
        sequence=draw(st.integers(1, 10**6)),
        hash=draw(_HEX64),
        sealed_at=draw(_DT),
        count=draw(st.integers(1, 500)),
    )


@st.composite
def notifications(draw: st.DrawFn) -> Notification:
    status = draw(st.sampled_from(list(DeliveryStatus)))
    claimed = status is DeliveryStatus.PENDING and draw(st.booleans())
    created = draw(_DT)
    return Notification(
        id=draw(_TEXT_ID),
        event=draw(st.sampled_from(["GoalAchieved", "ReviewDue"])),
        recipient_kind=draw(st.sampled_from(list(RecipientKind))),
        recipient_id=draw(_TEXT_ID),
        channel=draw(st.sampled_from(list(ContactChannel))),
        subject=draw(cs.texts()),
        body=draw(cs.texts(40)),
        created_at=created,
        next_attempt_at=cs.later(created, draw(cs.DURATIONS)),
        patient_id=draw(cs.optional(_TEXT_ID)),
        status=status,
        attempts=draw(st.integers(0, 9)),
        last_error=draw(cs.optional(cs.texts())),
        delivered_at=draw(_DT) if status is DeliveryStatus.DELIVERED else None,
        deferred_for_quiet_hours=draw(st.booleans()),
        claimed_by=draw(_TEXT_ID) if claimed else None,
        claimed_until=draw(_DT) if claimed else None,
        in_doubt_attempts=draw(st.integers(0, 3)),
    )


@st.composite
def timed_event_markers(draw: st.DrawFn) -> TimedEventMarker:
    return TimedEventMarker(
        id=draw(_TEXT_ID),
        event=draw(st.sampled_from(["ReviewDue", "ReferralStalled"])),
        subject_id=draw(_TEXT_ID),
        at=draw(_DT),
        patient_id=draw(cs.optional(_TEXT_ID)),
    )


RECORD_STRATEGIES: dict[type[Any], SearchStrategy[Any]] = {
    **cs.ENTITY_STRATEGIES,
    EmergencyAccess: emergency_accesses(),
    AuditEntry: audit_entries(),
    AuditHead: audit_heads(),
    AuditCheckpoint: audit_checkpoints(),
    Notification: notifications(),
    TimedEventMarker: timed_event_markers(),
}
KINDS = sorted(RECORD_TYPES)


def test_every_stored_record_type_is_fuzzed() -> None:
    assert set(RECORD_STRATEGIES) == set(RECORD_TYPES.values())


# ------------------------------------------------------------------ damage

MARKER = "Zz secret 42"
"""Damage that must never be echoed (a space: it cannot pass as an id or a path part)."""

_DEEP = 100_000
_HUGE_DIGITS = 5_000

_JUNK: dict[str, Any] = {
    "null": None,
    "true": True,
    "zero": 0,
    "negative": -7,
    "float": 2.5,
    "nan": float("nan"),
    "infinity": float("inf"),
    "empty-text": "",
    "marker": MARKER,
    "marker-list": [MARKER],
    "empty-list": [],
    "empty-object": {},
    "object": {"zz_extra": MARKER},
    "naive-datetime": "2026-01-01T09:00:00",
    "year-1-east": "0001-01-01T00:00:00+14:00",
    "year-1-utc-zoned": "0001-01-01T00:00:00+00:00[America/New_York]",
    "year-9999-west": "9999-12-31T23:59:59-14:00",
    "year-9999-zoned": "9999-12-31T23:59:59+00:00[Pacific/Kiritimati]",
    "fhir-year-1": "0001-01-01T00:00:00Z",
    "date-max": "9999-12-31",
    "date-min": "0001-01-01",
    "long-zone": "2026-01-01T09:00:00+00:00[" + "a" * 300 + "]",
    "unknown-zone": "2026-01-01T09:00:00+00:00[Mars/Olympus_Mons]",
    "id-with-space": "a b",
    "long-id": "x" * 300,
    "huge-int": None,  # 5,000 digits: built on use (its repr would not print)
    "deep": None,  # 100,000 nested arrays: built on use
}
JUNK_NAMES = sorted(_JUNK)


def _junk(name: str) -> Any:
    if name == "huge-int":
        return 10**_HUGE_DIGITS
    if name == "deep":
        value: list[Any] = []
        for _ in range(_DEEP):
            value = [value]
        return value
    return copy.deepcopy(_JUNK[name])  # damage may change it in place later


def _junk_json(name: str) -> str:
    """The JSON text of junk ``name`` (big ones written directly, not through json.dumps)."""
    if name == "huge-int":
        return "9" * _HUGE_DIGITS
    if name == "deep":
        return "[" * _DEEP + "]" * _DEEP
    return json.dumps(_JUNK[name])


def _paths(node: Any, prefix: JsonPath = ()) -> list[JsonPath]:
    """Every location in a JSON tree, the root (``()``) first."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


OPERATIONS = ("delete", "replace", "wrap", "add-key")
Damage = tuple[JsonPath, str, str]
"""Where, what (one of OPERATIONS) and which junk."""


def damages(tree: Any, *, max_size: int = 3) -> SearchStrategy[list[Damage]]:
    return st.lists(
        st.tuples(
            st.sampled_from(_paths(tree)), st.sampled_from(OPERATIONS), st.sampled_from(JUNK_NAMES)
        ),
        min_size=1,
        max_size=max_size,
    )


def _child(node: Any, step: str | int) -> Any:
    """``node[step]`` when ``node`` is a JSON object or array that has it, else LookupError."""
    if isinstance(node, dict) and isinstance(step, str) and step in node:
        return node[step]
    if isinstance(node, list) and isinstance(step, int) and step < len(node):
        return node[step]
    raise LookupError(step)


def damaged(tree: Any, damage: list[Damage], junk: Callable[[str], Any] = _junk) -> Any:
    """``tree`` (changed in place) with ``damage`` done; returns the new root."""
    root = tree
    for path, operation, name in damage:
        if not path:
            root = [root] if operation == "wrap" else junk(name)
            continue
        parent: Any = root
        try:
            for step in path[:-1]:
                parent = _child(parent, step)
            last = path[-1]
            current = _child(parent, last)
        except LookupError:
            continue  # an earlier change removed this place
        if operation == "delete":
            del parent[last]
        elif operation == "replace":
            parent[last] = junk(name)
        elif operation == "wrap":
            parent[last] = [current]
        elif isinstance(current, dict):
            current["zz_extra"] = junk(name)
        else:
            parent[last] = {"zz_extra": current}
    return root


def _text(payload: Any, damage: list[Damage]) -> str:
    """``payload`` damaged, as JSON text; big junk is spliced in as text."""
    holders: dict[str, str] = {}

    def placeholder(name: str) -> str:
        holders[f'"@@{name}@@"'] = _junk_json(name)
        return f"@@{name}@@"

    text = json.dumps(damaged(payload, damage, placeholder), sort_keys=True)
    for holder, junk_text in holders.items():
        text = text.replace(holder, junk_text)
    return text


BYTE_DAMAGE = ("none", "truncate", "bad-utf8", "utf16", "bom", "deep-prefix", "nul")


def _bytes(text: str, how: str, at: float) -> str | bytes:
    cut = int(len(text) * at)
    match how:
        case "none":
            return text
        case "truncate":
            return text[:cut]
        case "bad-utf8":
            raw = text.encode()
            return raw[:cut] + b"\xff\xfe\xfd" + raw[cut:]
        case "utf16":
            return text.encode("utf-16")
        case "bom":
            return "\ufeff" + text
        case "deep-prefix":
            return "[" * 50_000 + text
        case _:
            return text[:cut] + "\x00" + text[cut:]


def _check_structure_error(exc: StructureError) -> None:
    assert exc.paths, "a StructureError names at least one path"
    assert all(p.startswith("$") for p in exc.paths), exc.paths
    assert MARKER not in str(exc)


# ------------------------------------------------------- payloads and JSON


@pytest.mark.parametrize("cls", [RECORD_TYPES[k] for k in KINDS], ids=KINDS)
def test_damaged_payload_is_read_or_a_structure_error(cls: type[Any]) -> None:
    @_fuzz(10)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        payload = to_payload(data.draw(RECORD_STRATEGIES[cls], label="record"))
        broken = damaged(payload, data.draw(damages(payload), label="damage"))
        try:
            result = from_payload(broken, cls)
        except StructureError as exc:
            _check_structure_error(exc)  # asserts in a helper: the error is typed already
        else:
            assert isinstance(result, cls)

    check()


@pytest.mark.parametrize("cls", [RECORD_TYPES[k] for k in KINDS], ids=KINDS)
def test_damaged_json_is_read_or_a_structure_error(cls: type[Any]) -> None:
    @_fuzz(5)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        payload = to_payload(data.draw(RECORD_STRATEGIES[cls], label="record"))
        text = _text(payload, data.draw(damages(payload, max_size=2), label="damage"))
        how = data.draw(st.sampled_from(BYTE_DAMAGE), label="bytes")
        raw = _bytes(text, how, data.draw(st.floats(0, 1), label="at"))
        try:
            result = loads(raw, cls)
        except StructureError as exc:
            _check_structure_error(exc)
        else:
            assert isinstance(result, cls)

    check()


@pytest.mark.parametrize("cls", [RECORD_TYPES[k] for k in KINDS], ids=KINDS)
def test_damaged_stored_record_is_read_or_a_storage_error(cls: type[Any]) -> None:
    @_fuzz(3)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        payload = to_payload(data.draw(RECORD_STRATEGIES[cls], label="record"))
        text = _text(payload, data.draw(damages(payload, max_size=2), label="damage"))
        how = data.draw(st.sampled_from(("none", "truncate", "bom", "deep-prefix")), label="how")
        raw = _bytes(text, how, data.draw(st.floats(0, 1), label="at"))
        assert isinstance(raw, str)
        stored = StoredRecord(kind=cls.__name__, id="rec-1", version=4, payload=raw)
        error: StorageError | None = None
        try:
            result = decode_record(stored, cls)
        except StorageError as exc:
            error = exc
        else:
            assert isinstance(result, cls)
        if error is not None:
            message = str(error)
            assert f"{cls.__name__} rec-1 at version 4" in message
            assert MARKER not in message and MARKER not in repr(error.__cause__)

    check()


# --------------------------------------------------------------------- FHIR


@_fuzz(30)
@given(st.data())
def test_damaged_bundle_is_imported_or_a_path_named_error(data: st.DataObject) -> None:
    bundle = json.loads(json.dumps(export_bundle(data.draw(patient_records()), include_audit=True)))
    broken = damaged(bundle, data.draw(damages(bundle), label="damage"))
    error: FhirImportError | None = None
    try:
        imported = import_bundle(broken)
    except FhirImportError as exc:
        error = exc
    else:
        assert isinstance(imported, ImportedRecord)
    if error is not None:
        assert error.path.startswith(("Bundle", "resource")), error.path  # or a resource list
        assert error.paths == (error.path,)
        assert str(error).startswith(error.path + ": ")
        assert MARKER not in str(error)


# ---------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder holding a demo database; the CLI runs with it as the working directory."""
    home = tmp_path_factory.mktemp("cli-fuzz")
    assert main(["demo", "--db", str(home / "demo.sqlite3")], out=io.StringIO()) == 0
    (home / "not-a-db.sqlite3").write_text("plain text\n", encoding="utf-8")
    (home / "a-file").write_text("x", encoding="utf-8")
    before = Path.cwd()
    os.chdir(home)  # anything the CLI would write by default stays in here
    try:
        yield home
    finally:
        os.chdir(before)


# Per option: values that work with the demo database, then values that do not.
_GOOD_MOMENTS = ["2026-11-23", "2026-11-23T09:00", "2026-11-23T09:00:00+05:30", "2027-01-01"]
_BAD_MOMENTS = [
    "2026-13-45",
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31",
    "9999-12-31T23:59:59-14:00",
    "yesterday",
    "",
]
_GOOD_IDS = ["staff-coordinator", "staff-supervisor", "patient-1", "patient-3"]
_BAD_IDS = ["nobody", "a b", "", "../x", "x" * 100]


def _cli_values(home: Path) -> dict[str, tuple[list[str], list[str]]]:
    return {
        "--db": (["demo.sqlite3"], ["missing.sqlite3", "not-a-db.sqlite3", str(home), ""]),
        "--zone": (
            ["UTC", "America/Chicago", "Pacific/Kiritimati"],
            ["Mars/Base", "../etc", "a" * 300, ""],
        ),
        "--format": (["table", "json"], ["xml"]),
        "--staff": (_GOOD_IDS, _BAD_IDS),
        "--actor": (_GOOD_IDS, _BAD_IDS),
        "--coordinator": (_GOOD_IDS, _BAD_IDS),
        "--patient": (_GOOD_IDS, _BAD_IDS),
        "--scope": (["self", "team", "supervisor"], ["everyone"]),
        "--at": (_GOOD_MOMENTS, _BAD_MOMENTS),
        "--from": (_GOOD_MOMENTS, _BAD_MOMENTS),
        "--to": (_GOOD_MOMENTS, _BAD_MOMENTS),
        "--checkpoint": (["0" * 64, "f" * 64], ["not-hex", ""]),
        "--out-dir": (["out", "out/nested"], ["a-file", "a-file/below", "n" * 300, "out/\x00"]),
    }


_REQUIRED: dict[str, tuple[str, ...]] = {
    "worklist": ("--db", "--staff"),
    "metrics": ("--db", "--actor", "--from", "--to"),
    "verify-audit": ("--db", "--actor"),
    "export": ("--db", "--actor", "--out-dir"),
}
_OPTIONAL: dict[str, tuple[str, ...]] = {
    "worklist": ("--zone", "--format", "--actor", "--scope", "--at"),
    "metrics": ("--zone", "--format", "--coordinator"),
    "verify-audit": ("--zone", "--format", "--checkpoint", "--no-seal"),
    "export": ("--patient", "--patient"),
}
_STRAY = ["--nope", "-x", "--", "--db=", "--zone=UTC", "-h", "--help", "demo", "worklist", "\x00"]


@st.composite
def argvs(draw: st.DrawFn, home: Path) -> list[str]:
    """Mostly well-formed command lines (so the commands run), with stray and random tokens."""
    values = _cli_values(home)
    command = draw(st.sampled_from(sorted(_REQUIRED)))
    chosen = [o for o in _REQUIRED[command] if draw(st.integers(0, 19)) > 0]  # 5 % left out
    chosen += [o for o in _OPTIONAL[command] if draw(st.booleans())]
    argv = [command]
    for option in draw(st.permutations(chosen)):
        argv.append(option)
        if option != "--no-seal":
            good, bad = values[option]
            argv.append(draw(st.sampled_from(good if draw(st.integers(0, 3)) else bad)))
    if draw(st.integers(0, 4)) == 0:
        for _ in range(draw(st.integers(1, 2))):
            # Random tokens never start with "-": "--o" would abbreviate --out-dir and
            # make a folder wherever the random text points.
            token = draw(
                st.sampled_from(_STRAY)
                | st.text(max_size=12).filter(lambda t: not t.startswith("-"))
            )
            argv.insert(draw(st.integers(0, len(argv))), token)
    if draw(st.integers(0, 19)) == 0 and len(argv) > 1:
        del argv[draw(st.integers(1, len(argv) - 1))]  # an option loses its value
    if argv[0] == "demo":
        argv[0] = command  # the demo would (re)create files; its checks have their own tests
    return argv


def test_cli_never_shows_a_traceback(cli_home: Path) -> None:
    @_fuzz(60)
    @given(argvs(cli_home))
    def check(argv: list[str]) -> None:
        out, err = io.StringIO(), io.StringIO()
        try:
            # --help and usage errors go to sys.stdout / sys.stderr, not to ``out``
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code: object = main(argv, out=out)
        except SystemExit as exc:
            code = exc.code
        assert code in (0, 1, 2, 3), (code, err.getvalue())
        if code in (1, 2):
            assert err.getvalue().startswith(("carecoord ", "usage: ")), err.getvalue()
        assert "Traceback" not in err.getvalue()

    check()


# ---------------------------------------------------------- the error tree


def test_fuzzed_rejections_are_in_the_error_tree() -> None:
    """What the checks above catch is all carecoord's (a guard against loosening them)."""
    for error in (StructureError, FhirImportError, StorageError):
        assert issubclass(error, CareCoordError)

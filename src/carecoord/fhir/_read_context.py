"""The importer's shared context: the input's index, references, ids and the report.

* :class:`_Entry` is one resource of the input (its tracked JSON, element path,
  and the carecoord record it became, if any);
* :class:`_Ctx` reads the input (a Bundle of any type, one resource, or a JSON
  array of resources), checks every resource's type and id, and resolves
  References in every R4 form (:meth:`_Ctx.resolve`): a ``fullUrl``
  (``urn:uuid:``, an absolute URL), a relative ``Type/id`` (also with
  ``/_history/n``), an absolute URL ending in ``Type/id``, a contained
  ``#id``, or an identifier alone;
* :meth:`_Ctx.ref` gives the carecoord id a Reference points at, and
  :meth:`_Ctx.opt_ref` the same or ``None`` for a reference carecoord cannot
  hold (reported, never silently dropped); ``_read_external`` keeps a
  Reference to something outside the input as an :class:`~carecoord.model.ExternalRef`;
* :func:`own_id` / :func:`carecoord_id` read a resource's own carecoord id;
  :func:`ext_ref` / :func:`ext_refs` read References held in extensions;
* the converters' base class, :class:`~._read_reader._Reader`, is in
  ``_read_reader.py``.

Every resource is a tracked :class:`~._read_tracker._Node`, so what a
converter never reads is reported as dropped (see ``_read_tracker``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..model import CareCoordError, EntityId
from ._common import id_system
from ._derived import RECORD_CLASSES
from ._import_report import ExternalReference, current
from ._read_tracker import _Node, consume, peek
from ._read_values import ev, ext_all, ext_one, fail, items, obj, req_string
from .export import FHIR_ID, KIND_TYPES
from .valuesets import R4_RESOURCE_TYPES, code_in

SUPPORTED = frozenset(
    {
        "Patient",
        "RelatedPerson",
        "Practitioner",
        "PractitionerRole",
        "CareTeam",
        "ClinicalImpression",
        "Condition",
        "Goal",
        "CarePlan",
        "Task",
        "ServiceRequest",
        "Appointment",
        "Communication",
        "Consent",
        "Basic",
        "AuditEvent",
        "Observation",
        "Organization",
    }
)
_TYPE_ID = r"(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(/_history/[A-Za-z0-9\-.]{1,64})?"
_RELATIVE = re.compile(_TYPE_ID)
_ABSOLUTE = re.compile(r"https?://[^\s]+/" + _TYPE_ID)
_URN_UUID = re.compile(r"urn:uuid:(?P<uuid>[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})")
_LOCAL = re.compile(r"urn:(uuid|oid):.+")
_CONTAINED = re.compile(r"#(?P<id>[A-Za-z0-9\-.]{1,64})")


class _Entry:
    __slots__ = ("index", "path", "resource", "rtype", "skipped", "target", "url", "used")

    def __init__(self, index: int, rtype: str, resource: _Node, path: str, url: str | None) -> None:
        self.index = index
        self.rtype = rtype
        self.resource = resource
        self.path = path
        self.url = url
        self.used = False
        self.target: tuple[str, str] | None = None
        self.skipped: str | None = None


class _Outside:
    """A reference whose target is not in the input (or is contained in a resource)."""

    __slots__ = ("contained", "reference", "rid", "rtype")

    def __init__(
        self, rtype: str | None, rid: str | None, reference: str, *, contained: bool = False
    ) -> None:
        self.rtype = rtype
        self.rid = rid
        self.reference = reference
        self.contained = contained


class _Ctx:
    """The input's resources, indexed by ``fullUrl`` and ``Type/id``."""

    def __init__(self, data: Any) -> None:
        self.entries: list[_Entry] = []
        self.skipped: list[tuple[str, str]] = []  # (path, why) of resources not read
        self.by_url: dict[str, _Entry] = {}
        self.by_type_id: dict[tuple[str, str], _Entry] = {}
        self.contained: dict[str, dict[str, str]] = {}  # entry path -> contained id -> type
        self.timestamp: Any = None
        self.where = "Bundle.entry"  # where the resources are, for errors about all of them
        if isinstance(data, list):
            self.where = "resources"
            for i, raw in enumerate(data):
                self._add(raw, f"resources[{i}].", None)
            return
        root = obj(data, "Bundle")
        kind = root.get("resourceType")
        if kind != "Bundle":
            if isinstance(kind, str) and kind in R4_RESOURCE_TYPES:
                self.where = "resource"
                self._add(root, "", None)  # one resource on its own
                return
            fail("Bundle.resourceType", "expected a Bundle or a FHIR resource")
        btype = root.get("type")
        if btype is not None and not code_in("bundle-type", btype):
            fail("Bundle.type", "code not in value set bundle-type")
        self.timestamp = root.get("timestamp")
        for raw, at in items(root, "entry", "Bundle"):
            entry = obj(raw, at)
            url = entry.get("fullUrl")
            if url is not None and not isinstance(url, str):
                fail(f"{at}.fullUrl", "expected a string")
            if entry.get("resource") is None:
                self.skipped.append((at, "entry without a resource (a request or response only)"))
                continue
            self._add(obj(entry["resource"], f"{at}.resource"), f"{at}.", url)

    def _add(self, raw: Any, at: str, url: str | None) -> None:
        resource = obj(raw, f"{at}resource")
        rtype = resource.get("resourceType")
        if not isinstance(rtype, str):
            fail(f"{at}resource.resourceType", "missing resource type")
        if rtype not in R4_RESOURCE_TYPES:
            fail(f"{at}resource(?).resourceType", "unsupported resource type")
        rid = resource.get("id")
        if rid is not None and not (isinstance(rid, str) and FHIR_ID.fullmatch(rid)):
            fail(f"{at}resource({rtype}).id", "not a valid FHIR id")
        implied = None
        if rid is None and url is not None and (uuid := _URN_UUID.fullmatch(url)):
            # a transaction's new resource: its fullUrl's uuid is its id
            rid = implied = uuid["uuid"].lower()
            resource = {**resource, "id": rid}
        path = f"{at}resource({rtype}/{rid})" if rid else f"{at}resource({rtype})"
        if url is not None and url in self.by_url:
            fail(f"{at}fullUrl", "duplicate fullUrl")
        if rid is not None and (rtype, rid) in self.by_type_id:
            fail(f"{path}.id", "duplicate resource id")
        if rtype not in SUPPORTED:
            self.skipped.append((path, f"resource type {rtype} is not imported"))
            # still indexed: references to it are in the input, not outside it
        node = _Node(resource)
        consume(node, "resourceType", "id")
        item = _Entry(len(self.entries), rtype, node, path, url)
        if implied is not None:
            current().default(f"{path}.id", "no id: the fullUrl's uuid is taken", implied)
        if url is not None:
            self.by_url[url] = item
        if rid is not None:
            self.by_type_id[(rtype, rid)] = item
        if rtype in SUPPORTED:
            self.entries.append(item)
        contained: dict[str, str] = {}
        for c, where in items(node, "contained", path):
            c = obj(c, where)
            cid, ctype = peek(c, "id"), peek(c, "resourceType")
            if isinstance(cid, str) and isinstance(ctype, str):
                contained[cid] = ctype
        if contained:
            self.contained[path] = contained
            current().drop(f"{path}.contained", "contained resources are not imported")

    def of_type(self, rtype: str) -> list[_Entry]:
        return [e for e in self.entries if e.rtype == rtype]

    def locate(self, target: str, at: str) -> _Entry | _Outside | None:
        """What a literal reference points at; ``None`` when it is no reference at all."""
        if target in self.by_url:
            return self.by_url[target]
        if (m := _CONTAINED.fullmatch(target)) is not None:
            for path, ids in self.contained.items():
                if at.startswith(path) and m["id"] in ids:
                    return _Outside(ids[m["id"]], None, target, contained=True)
            return None
        if _LOCAL.fullmatch(target):
            return None  # a Bundle-local name with no entry: dangling
        m = _RELATIVE.fullmatch(target) or _ABSOLUTE.fullmatch(target)
        if m is None or m["type"] not in R4_RESOURCE_TYPES:
            return None
        found = self.by_type_id.get((m["type"], m["id"]))
        return found if found is not None else _Outside(m["type"], m["id"], target)

    def resolve(self, ref: Mapping[str, Any], at: str) -> _Entry | _Outside | None:
        """The target of Reference ``ref`` (element ``at``); ``None`` for a logical one."""
        target = ref.get("reference")
        if target is None:
            return None
        if not isinstance(target, str):
            fail(f"{at}.reference", "expected a string")
        found = self.locate(target, at)
        if found is None:
            if _LOCAL.fullmatch(target) or _CONTAINED.fullmatch(target):
                fail(f"{at}.reference", "missing reference (target not in the Bundle)")
            fail(f"{at}.reference", "not a valid reference (Type/id, a URL or urn:uuid:)")
        if isinstance(found, _Entry):
            consume(ref, "display")  # a label of what the input holds in full
        return found

    def names(self, value: Any, entry: _Entry, kind: str, cid: str) -> bool:
        """Whether Reference ``value`` points at ``entry`` (carecoord id ``cid``): looks only.

        By its literal reference, else by a carecoord identifier of ``kind``.
        Nothing is read or reported: for finding which resource belongs where.
        """
        if not isinstance(value, Mapping):
            return False
        target = peek(value, "reference")
        if isinstance(target, str):
            return self.locate(target, entry.path) is entry
        ident = peek(value, "identifier")
        return (
            isinstance(ident, Mapping)
            and peek(ident, "system") == id_system(kind)
            and peek(ident, "value") == cid
        )

    def points_at(self, value: Any, at: str, kind: str, cid: str) -> bool:
        """Whether Reference ``value`` names carecoord record ``cid`` of ``kind``: looks only.

        Its literal reference must reach the resource that record came from
        (of a record already converted), its identifier (if any) be the
        record's; a reference with neither names nothing.
        """
        if not isinstance(value, Mapping) or peek(value, "type") not in (None, KIND_TYPES[kind]):
            return False
        ident = peek(value, "identifier")
        if ident is not None and not (
            isinstance(ident, Mapping)
            and peek(ident, "system") == id_system(kind)
            and peek(ident, "value") == cid
        ):
            return False
        target = peek(value, "reference")
        if target is None:
            return ident is not None
        if not isinstance(target, str):
            return False
        found = self.locate(target, at)
        return (
            isinstance(found, _Entry)
            and found.rtype == KIND_TYPES[kind]
            and found.target in [(name, cid) for name in RECORD_CLASSES[kind]]
        )

    def link(self, value: Any, at: str, rtype: str, message: str) -> _Entry:
        """The resource of type ``rtype`` in the input that Reference ``value`` names.

        Fails with ``message`` (at ``at.reference``) when the target is not
        such a resource in the input. The Reference's ``type`` and identifier
        are checked against the target and taken.
        """
        r = obj(value, at)
        target = self.resolve(r, at)
        if not isinstance(target, _Entry) or target.rtype != rtype:
            fail(f"{at}.reference", message)
        stated = self._typed(r, at)
        if stated is not None and stated != rtype:
            fail(f"{at}.type", "the reference's type is not its target's")
        ident = r.get("identifier")
        if ident is not None:
            consume(obj(ident, f"{at}.identifier"), "system", "value")
        return target

    def _typed(self, r: Mapping[str, Any], at: str) -> str | None:
        rtype = r.get("type")
        if rtype is not None and not (isinstance(rtype, str) and rtype in R4_RESOURCE_TYPES):
            fail(f"{at}.type", "not a FHIR resource type")
        return rtype

    def ref(self, value: Any, at: str, kind: str, rtype: str | None = None) -> str:
        """The carecoord id a Reference points at (by identifier, else by its target).

        A reference of the expected type outside the input gives its id as
        the carecoord id (a foreign reference ``Practitioner/abc`` is staff
        member ``abc``), reported as external.
        """
        found = self.opt_ref(value, at, kind, rtype, strict=True)
        assert found is not None
        return found

    def opt_ref(
        self,
        value: Any,
        at: str,
        kind: str,
        rtype: str | None = None,
        *,
        strict: bool = False,
        follow: bool = True,
    ) -> str | None:
        """Like :meth:`ref`, or ``None`` (reported) for a reference carecoord cannot hold.

        ``None``: a reference to another resource type, to a contained
        resource, or with only a foreign identifier. With ``strict`` these
        raise :class:`~carecoord.FhirImportError` instead. A reference to a
        ``PractitionerRole`` in the input where a staff member is expected
        gives the role's practitioner.
        """
        r = obj(value, at)
        expected = rtype or KIND_TYPES[kind]
        stated = self._typed(r, at)
        target = self.resolve(r, at)
        ident = r.get("identifier")
        own = None
        if ident is not None:
            ident = obj(ident, f"{at}.identifier")
            if peek(ident, "system") == id_system(kind):
                consume(ident, "system")
                own = carecoord_id(
                    req_string(ident, "value", f"{at}.identifier"), f"{at}.identifier.value"
                )
            elif target is None and strict:
                fail(f"{at}.identifier.system", f"expected a {kind} identifier")
        actual = stated if target is None else target.rtype
        if isinstance(target, _Entry):
            if follow and actual == "PractitionerRole" and expected == "Practitioner":
                role = target.resource
                if "practitioner" in role:
                    return self.opt_ref(
                        role["practitioner"],
                        f"{target.path}.practitioner",
                        kind,
                        strict=strict,
                        follow=False,
                    )
            if actual != expected:
                if strict:
                    fail(
                        f"{at}.reference",
                        f"reference to the wrong resource type (expected {expected})",
                    )
                self._outside(r, at, target, actual)
                return None
            if stated is not None and stated != actual:
                fail(f"{at}.type", "the reference's type is not its target's")
            if ident is not None:
                consume(ident, "system", "value")  # the target's own identifier
            return own if own is not None else own_id(target.resource, target.path, kind)
        if actual is not None and actual != expected:
            if strict:
                fail(
                    f"{at}.reference",
                    f"reference to the wrong resource type (expected {expected})",
                )
            self._outside(r, at, target, actual)
            return None
        if stated is not None and stated != actual:
            fail(f"{at}.type", "the reference's type is not its target's")
        if target is None and ident is None:
            fail(at, "reference has neither a target nor an identifier")
        if own is None and isinstance(target, _Outside) and not target.contained:
            own = None if target.rid is None else carecoord_id(target.rid, f"{at}.reference")
        if own is None and strict:
            fail(f"{at}.reference", f"reference carecoord cannot hold (expected a {kind})")
        self._outside(r, at, target, expected, kept=own is not None)
        return own

    def _outside(
        self,
        r: Mapping[str, Any],
        at: str,
        target: _Entry | _Outside | None,
        rtype: str | None,
        *,
        kept: bool = False,
    ) -> None:
        """Report a reference outside the input (or one carecoord cannot hold)."""
        if isinstance(target, _Entry):
            current().drop(at, f"refers to a {target.rtype}, which carecoord cannot hold here")
            return
        ident = peek(r, "identifier")
        system = peek(ident, "system") if isinstance(ident, Mapping) else None
        value = peek(ident, "value") if isinstance(ident, Mapping) else None
        current().outside(
            ExternalReference(
                path=at,
                resource_type=rtype,
                reference=None if target is None else target.reference,
                identifier_system=system if isinstance(system, str) else None,
                identifier_value=value if isinstance(value, str) else None,
                kept=kept,
            )
        )

    def scan(self, value: Any, at: str) -> None:
        """Report every reference outside the input found in ``value`` (a dropped element)."""
        if isinstance(value, str) and at.endswith(".reference"):
            value, at = {"reference": value}, at.removesuffix(".reference")  # a Reference's part
        stack: list[tuple[Any, str]] = [(value, at)]
        while stack:
            item, where = stack.pop()
            if isinstance(item, list):
                stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
            elif isinstance(item, Mapping):
                target = item.get("reference")
                ident = item.get("identifier")
                if isinstance(target, str):
                    found = self.locate(target, where)
                    if isinstance(found, _Outside):
                        self._outside(item, where, found, found.rtype)
                elif isinstance(ident, Mapping) and set(item) <= _REFERENCE_KEYS:
                    rtype = item.get("type")
                    self._outside(item, where, None, rtype if isinstance(rtype, str) else None)
                stack.extend((v, f"{where}.{k}") for k, v in item.items() if k != "identifier")


_REFERENCE_KEYS = frozenset({"id", "extension", "reference", "type", "identifier", "display"})


def carecoord_id(value: str, at: str) -> str:
    """``value`` (element ``at``) if it can be a carecoord id (see :class:`EntityId`)."""
    try:
        EntityId(value)
    except CareCoordError as exc:  # the rule broken, never the value
        fail(at, f"not a valid carecoord id: {exc}")
    return value


def own_id(resource: Mapping[str, Any], at: str, kind: str) -> str:
    """The carecoord id of a resource: its carecoord identifier, else its FHIR id."""
    for ident, where in items(resource, "identifier", at):
        ident = obj(ident, where)
        if peek(ident, "system") == id_system(kind):
            consume(ident, "system")
            return carecoord_id(req_string(ident, "value", where), f"{where}.value")
    rid = resource.get("id")
    if isinstance(rid, str):
        return carecoord_id(rid, f"{at}.id")
    fail(f"{at}.identifier", f"no {kind} identifier and no id")


def ext_refs(ctx: _Ctx, o: Mapping[str, Any], name: str, at: str, kind: str) -> list[str]:
    return [
        ctx.ref(ev(e, where, "valueReference"), f"{where}.valueReference", kind)
        for e, where in ext_all(o, name, at)
    ]


def ext_ref(ctx: _Ctx, o: Mapping[str, Any], name: str, at: str, kind: str) -> str | None:
    found = ext_one(o, name, at)
    if found is None:
        return None
    return ctx.ref(ev(found[0], found[1], "valueReference"), f"{found[1]}.valueReference", kind)

"""The importer's shared context: the Bundle index, references and ids.

* :class:`_Entry` is one Bundle entry (its resource, element path, and whether
  a converter has used it yet);
* :class:`_Ctx` indexes the Bundle (by ``fullUrl`` and ``type/id``), checks
  every entry's resource type and id, and resolves References
  (:meth:`_Ctx.ref` gives the carecoord id a Reference points at);
* :func:`own_id` / :func:`carecoord_id` read a resource's own carecoord id;
* :func:`ext_ref` / :func:`ext_refs` read References held in extensions;
* :class:`_Reader` is the base of the per-resource converter mixins
  (``_import_*.py``): it holds the context and the patient id, and marks
  entries used (:meth:`_Reader.use`, :meth:`_Reader.guard`).

Both the readers and the converters import this module; it imports only
:mod:`._read_values`, so there is no import cycle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..model import CareCoordError, EntityId, FhirImportError, PatientId
from ._common import id_system
from ._read_values import ev, ext_all, ext_one, fail, items, obj, req_string
from .export import FHIR_ID, KIND_TYPES
from .valuesets import R4_RESOURCE_TYPES, code_in

T = TypeVar("T")

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
    }
)
_REL_REF = re.compile(r"(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})")


class _Entry:
    __slots__ = ("index", "path", "resource", "rtype", "used")

    def __init__(self, index: int, rtype: str, resource: Mapping[str, Any], path: str) -> None:
        self.index = index
        self.rtype = rtype
        self.resource = resource
        self.path = path
        self.used = False


class _Ctx:
    def __init__(self, bundle: Any) -> None:
        bundle = obj(bundle, "Bundle")
        if bundle.get("resourceType") != "Bundle":
            fail("Bundle.resourceType", "expected a Bundle")
        btype = bundle.get("type")
        if btype is not None and not code_in("bundle-type", btype):
            fail("Bundle.type", "code not in value set bundle-type")
        self.entries: list[_Entry] = []
        self.by_url: dict[str, _Entry] = {}
        self.by_type_id: dict[tuple[str, str], _Entry] = {}
        for raw, at in items(bundle, "entry", "Bundle"):
            entry = obj(raw, at)
            resource = obj(entry.get("resource"), f"{at}.resource")
            rtype = resource.get("resourceType")
            if not isinstance(rtype, str):
                fail(f"{at}.resource.resourceType", "missing resource type")
            if rtype not in SUPPORTED:
                named = rtype if rtype in R4_RESOURCE_TYPES else "?"
                fail(f"{at}.resource({named}).resourceType", "unsupported resource type")
            rid = resource.get("id")
            if rid is not None and not (isinstance(rid, str) and FHIR_ID.fullmatch(rid)):
                fail(f"{at}.resource({rtype}).id", "not a valid FHIR id")
            path = f"{at}.resource({rtype}/{rid})" if rid else f"{at}.resource({rtype})"
            item = _Entry(len(self.entries), rtype, resource, path)
            self.entries.append(item)
            url = entry.get("fullUrl")
            if url is not None:
                if not isinstance(url, str):
                    fail(f"{at}.fullUrl", "expected a string")
                if url in self.by_url:
                    fail(f"{at}.fullUrl", "duplicate fullUrl")
                self.by_url[url] = item
            if rid is not None:
                if (rtype, rid) in self.by_type_id:
                    fail(f"{path}.id", "duplicate resource id")
                self.by_type_id[(rtype, rid)] = item

    def of_type(self, rtype: str) -> list[_Entry]:
        return [e for e in self.entries if e.rtype == rtype]

    def resolve(self, ref: Mapping[str, Any], at: str) -> _Entry | None:
        target = ref.get("reference")
        if target is None:
            return None
        if not isinstance(target, str):
            fail(f"{at}.reference", "expected a string")
        if target in self.by_url:
            return self.by_url[target]
        match = _REL_REF.fullmatch(target)
        if match and (match["type"], match["id"]) in self.by_type_id:
            return self.by_type_id[(match["type"], match["id"])]
        fail(f"{at}.reference", "missing reference (target not in the Bundle)")

    def ref(self, value: Any, at: str, kind: str, rtype: str | None = None) -> str:
        """The carecoord id a Reference points at (by identifier, else by its target)."""
        r = obj(value, at)
        target = self.resolve(r, at)
        expected = rtype or KIND_TYPES[kind]
        if target is not None and target.rtype != expected:
            fail(f"{at}.reference", f"reference to the wrong resource type (expected {expected})")
        if "identifier" in r:
            ident = obj(r["identifier"], f"{at}.identifier")
            if ident.get("system") != id_system(kind):
                fail(f"{at}.identifier.system", f"expected a {kind} identifier")
            value = req_string(ident, "value", f"{at}.identifier")
            return carecoord_id(value, f"{at}.identifier.value")
        if target is not None:
            return own_id(target.resource, target.path, kind)
        fail(at, "reference has neither a target nor an identifier")


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
        if ident.get("system") == id_system(kind):
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


class _Reader:
    """What every converter needs: the Bundle context and the patient's id."""

    def __init__(self, bundle: Any) -> None:
        self.ctx = _Ctx(bundle)
        self.patient_id = PatientId("x")

    def use(self, entry: _Entry) -> None:
        if entry.used:
            fail(entry.path, "resource is used twice")
        entry.used = True

    def subject(self, entry: _Entry, key: str) -> None:
        r = entry.resource
        at = entry.path
        if key not in r:
            fail(f"{at}.{key}", "required element missing")
        if self.ctx.ref(r[key], f"{at}.{key}", "patient") != self.patient_id:
            fail(f"{at}.{key}", "refers to another patient")

    def guard(self, entry: _Entry, convert: Callable[[_Entry], T]) -> T:
        self.use(entry)
        try:
            return convert(entry)
        except FhirImportError:
            raise
        except CareCoordError as exc:
            # model messages name fields and codes, never values
            fail(entry.path, f"not a valid carecoord record: {exc}")

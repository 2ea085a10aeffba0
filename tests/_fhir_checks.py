"""An independent FHIR R4 (4.0.1) checker for the export tests.

``fhir.resources`` (R4B) checks structure; it does not check primitive
formats closely, invariants, required bindings or references. This module
does, for the elements carecoord exports, without using any carecoord code:

* a schema (:data:`SCHEMA`) of every element carecoord writes, with its R4
  type, cardinality, required binding and reference targets; an element not
  in it is reported, so a new exported element must be added here (checked
  against the R4 definition) before the tests pass;
* primitive formats (``_fhir_formats``): the regexes of the R4 specification
  for ``id``, ``code``, ``uri``, ``date``, ``dateTime``, ``instant``,
  ``time``, ``decimal``, ``positiveInt``, ``string``, ``xhtml``,
  ``base64Binary`` (and ``urn:uuid:`` / ``urn:oid:`` forms of ``uri``);
* invariants, each by its R4 key: ele-1, ext-1, per-1, rng-2, sqty-1, qty-3,
  cpt-2, ref-1, txt-1, txt-2, ppc-1..5, app-1..4, gol-1, con-3..5, cpl-3,
  org-1, obs-6, sev-1, bdl-5, bdl-7, bdl-8 (and ``uri-absolute`` for systems
  and extension urls);
* required bindings (``binding:<value set>``) with the R4 value sets;
* references inside the Bundle: every ``urn:`` or ``#`` reference resolves to
  an entry (``ref-resolve``); every literal reference that resolves is of its
  stated type (``ref-type``) and an allowed target (``ref-target``); one that
  does not (a relative ``Type/id`` or URL: another system's record, kept as
  it came) names an allowed target type, and :func:`external_references`
  lists them; a reference by identifier alone names no resource the Bundle
  holds (``ref-logical``: one that does must refer to it).

:func:`bundle_problems` returns ``"<path>: <check>: <what>"`` strings; empty
means valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from xml.etree import ElementTree

from _fhir_formats import ABSOLUTE, instant_key, primitive_problem
from _fhir_schema import (
    CHOICES,
    EXTENSION_VALUES,
    PRIMITIVES,
    REQUIRED_VALUE_SETS,
    SCHEMA,
    Element,
)

# ------------------------------------------------------------------- walking


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        # (path, reference text, Reference.type, allowed targets)
        self.references: list[tuple[str, str, str | None, tuple[str, ...]]] = []
        # (path, identifier system, identifier value) of references by identifier alone
        self.logical: list[tuple[str, Any, Any]] = []

    def add(self, path: str, check: str, what: str) -> None:
        self.problems.append(f"{path}: {check}: {what}")

    # -- one element of a known type
    def value(self, value: Any, element: Element, path: str, nested_ext: bool = False) -> None:
        if element.type in PRIMITIVES:
            problem = primitive_problem(element.type, value)
            if problem is not None:
                self.add(path, f"format:{element.type}", problem)
            elif element.binding is not None:
                self.binding_code(value, element.binding, path)
            return
        if not isinstance(value, Mapping):
            self.add(path, "structure", f"expected a JSON object ({element.type})")
            return
        self.complex(value, element.type, path, nested_ext)
        if element.binding is not None:
            self.binding_concept(value, element.type, element.binding, path)
        if element.type == "Reference" and isinstance(value.get("reference"), str):
            rtype = value.get("type")
            self.references.append(
                (
                    path,
                    value["reference"],
                    rtype if isinstance(rtype, str) else None,
                    element.targets,
                )
            )
        elif element.type == "Reference":
            if isinstance(value.get("type"), str):
                self.target_allowed(value["type"], element.targets, path)
            ident = value.get("identifier")
            if isinstance(ident, Mapping):
                self.logical.append((path, ident.get("system"), ident.get("value")))

    def target_allowed(self, rtype: str, targets: tuple[str, ...], path: str) -> None:
        if targets and "Any" not in targets and rtype not in targets:
            self.add(path, "ref-target", f"{rtype} is not an allowed target")

    # -- an object of a complex type or backbone element
    def complex(self, node: Mapping[str, Any], tname: str, path: str, nested: bool) -> None:
        if not node:
            self.add(path, "ele-1", "empty object")
            return
        fields = SCHEMA[tname]
        for key, item in node.items():
            here = f"{path}.{key}"
            if key.startswith("_"):
                self.primitive_extension(node, key, item, fields, here)
                continue
            if tname == "Extension" and key.startswith("value"):
                kind = EXTENSION_VALUES.get(key)
                if kind is None:
                    self.add(here, "structure", "unknown extension value type")
                else:
                    self.value(item, Element(kind), here)
                continue
            element = fields.get(key)
            if element is None:
                self.add(here, "structure", f"unknown element of {tname}")
                continue
            if element.many:
                if not isinstance(item, list):
                    self.add(here, "cardinality", "expected an array")
                    continue
                if not item:
                    self.add(here, "ele-1", "empty array")
                for i, one in enumerate(item):
                    self.value(one, element, f"{here}[{i}]", tname == "Extension")
            elif isinstance(item, list):
                self.add(here, "cardinality", "expected a single value, not an array")
            else:
                self.value(item, element, here, tname == "Extension")
        for key, element in fields.items():
            if element.required and key not in node:
                self.add(f"{path}.{key}", "cardinality", "required element missing")
        for group, names in CHOICES.get(tname, {}).items():
            if sum(name in node for name in names) > 1:
                self.add(path, "structure", f"more than one {group}[x]")
        check = _DATATYPE_RULES.get(tname)
        if check is not None:
            check(self, node, path, nested)

    def primitive_extension(
        self, node: Mapping[str, Any], key: str, item: Any, fields: Mapping[str, Element], here: str
    ) -> None:
        base = fields.get(key[1:])
        if base is None or base.type not in PRIMITIVES or base.many:
            self.add(here, "structure", "primitive extension of no single primitive element")
            return
        if not isinstance(item, Mapping) or set(item) - {"id", "extension"} or not item:
            self.add(here, "structure", "a primitive's element holds only id and extension")
            return
        self.complex(item, "Element", here, False)

    # -- bindings
    def binding_code(self, code: Any, vs_name: str, path: str) -> None:
        _system, codes = REQUIRED_VALUE_SETS[vs_name]
        if code not in codes:
            self.add(path, f"binding:{vs_name}", "code not in the required value set")

    def binding_concept(self, node: Mapping[str, Any], tname: str, vs_name: str, path: str) -> None:
        system, codes = REQUIRED_VALUE_SETS[vs_name]
        codings = [node] if tname == "Coding" else list(node.get("coding") or ())
        if not any(
            isinstance(c, Mapping) and c.get("system") == system and c.get("code") in codes
            for c in codings
        ):
            self.add(path, f"binding:{vs_name}", "no coding from the required value set")


# ------------------------------------------------------- datatype invariants


def _extension_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    has_value = any(key.startswith("value") for key in node)
    if has_value == ("extension" in node):
        c.add(path, "ext-1", "must have either extensions or value[x], not both")
    url = node.get("url")
    if isinstance(url, str) and not nested and not ABSOLUTE.fullmatch(url):
        c.add(f"{path}.url", "uri-absolute", "extension url is not an absolute URI")


def _period_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    start, end = instant_key(node.get("start")), instant_key(node.get("end"))
    if start is not None and end is not None and start > end:
        c.add(path, "per-1", "start after end")


def _range_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    low, high = node.get("low"), node.get("high")
    if isinstance(low, Mapping) and isinstance(high, Mapping):
        lv, hv = low.get("value"), high.get("value")
        if isinstance(lv, int | float) and isinstance(hv, int | float) and lv > hv:
            c.add(path, "rng-2", "low above high")


def _quantity_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    if "code" in node and "system" not in node:
        c.add(path, "qty-3", "a unit code needs a system")


def _simple_quantity_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    _quantity_rules(c, node, path, nested)
    if "comparator" in node:
        c.add(path, "sqty-1", "no comparator in a SimpleQuantity")


def _contact_point_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    if "value" in node and "system" not in node:
        c.add(path, "cpt-2", "a system is required if a value is provided")


def _reference_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    ref = node.get("reference")
    if isinstance(ref, str) and ref.startswith("#"):
        c.add(path, "ref-1", "local reference without a contained resource")


_XHTML = "{http://www.w3.org/1999/xhtml}"
_TAG_NAMES = """
    a abbr acronym b big blockquote br caption cite code col colgroup dd dfn div dl dt em
    h1 h2 h3 h4 h5 h6 hr i img li ol p pre q samp small span strong sub sup table tbody td
    tfoot th thead tr tt ul var
"""
_NARRATIVE_TAGS = frozenset(str.split(_TAG_NAMES))
"""The XHTML elements R4 allows in a narrative (txt-1)."""


def _narrative_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    div = node.get("div")
    if not isinstance(div, str):
        return
    try:
        root = ElementTree.fromstring(div)
    except ElementTree.ParseError:
        c.add(f"{path}.div", "txt-1", "not well-formed XHTML")
        return
    if root.tag != _XHTML + "div":
        c.add(f"{path}.div", "txt-1", "the root is not an XHTML div")
    for element in root.iter():
        name = element.tag.removeprefix(_XHTML)
        if not element.tag.startswith(_XHTML) or name not in _NARRATIVE_TAGS:
            c.add(f"{path}.div", "txt-1", f"element {name!r} is not allowed in a narrative")
        if any(key.lower().startswith("on") for key in element.attrib):
            c.add(f"{path}.div", "txt-1", "event attributes are not allowed in a narrative")
    if not "".join(root.itertext()).strip():
        c.add(f"{path}.div", "txt-2", "the narrative has no text")


def _system_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    system = node.get("system")
    if isinstance(system, str) and not ABSOLUTE.fullmatch(system):
        c.add(f"{path}.system", "uri-absolute", "system is not an absolute URI")


_DATATYPE_RULES: dict[str, Callable[[_Checker, Mapping[str, Any], str, bool], None]] = {
    "Extension": _extension_rules,
    "Period": _period_rules,
    "Range": _range_rules,
    "Quantity": _quantity_rules,
    "SimpleQuantity": _simple_quantity_rules,
    "ContactPoint": _contact_point_rules,
    "Reference": _reference_rules,
    "Narrative": _narrative_rules,
    "Identifier": _system_rules,
    "Coding": _system_rules,
}


# ------------------------------------------------------- resource invariants

_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def _codes(concept: Any, system: str) -> set[Any]:
    if not isinstance(concept, Mapping):
        return set()
    return {
        c.get("code")
        for c in concept.get("coding") or ()
        if isinstance(c, Mapping) and c.get("system") == system
    }


def _list(node: Mapping[str, Any], key: str) -> list[Any]:
    value = node.get(key)
    return value if isinstance(value, list) else []


def _consent(r: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    if "policy" not in r and "policyRule" not in r:
        yield path, "ppc-1", "either a policy or a policyRule"
    scopes = _codes(r.get("scope"), _CONSENT_SCOPE)
    # R4 writes these with system='something' (a known error); checked as meant.
    for key, scope in (
        ("ppc-2", "patient-privacy"),
        ("ppc-3", "research"),
        ("ppc-4", "adr"),
        ("ppc-5", "treatment"),
    ):
        if scope in scopes and "patient" not in r:
            yield path, key, f"scope {scope} needs a patient"


def _appointment(r: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    if ("start" in r) != ("end" in r):
        yield path, "app-2", "either start and end are specified, or neither"
    if not ("start" in r and "end" in r) and r.get("status") not in (
        "proposed",
        "cancelled",
        "waitlist",
    ):
        yield path, "app-3", "only proposed or cancelled appointments may lack start/end"
    if "cancelationReason" in r and r.get("status") not in ("noshow", "cancelled"):
        yield path, "app-4", "cancelation reason only for cancelled or no-show appointments"
    for i, p in enumerate(_list(r, "participant")):
        if isinstance(p, Mapping) and "type" not in p and "actor" not in p:
            yield f"{path}.participant[{i}]", "app-1", "either the type or actor"
    start, end = instant_key(r.get("start")), instant_key(r.get("end"))
    if start is not None and end is not None and start > end:
        yield path, "app-start-end", "start after end"


def _goal(r: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    for i, t in enumerate(_list(r, "target")):
        detail = isinstance(t, Mapping) and any(k.startswith("detail") for k in t)
        if detail and "measure" not in t:
            yield f"{path}.target[{i}]", "gol-1", "target.measure is required with a detail"


def _condition(r: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    clinical = _codes(r.get("clinicalStatus"), _CLINICAL)
    in_error = "entered-in-error" in _codes(r.get("verificationStatus"), _VERIFICATION)
    problem_list = any(
        "problem-list-item" in _codes(c, "http://terminology.hl7.org/CodeSystem/condition-category")
        for c in _list(r, "category")
    )
    if problem_list and not in_error and "clinicalStatus" not in r:
        yield path, "con-3", "a problem-list item needs a clinicalStatus"
    abated = any(k.startswith("abatement") for k in r)
    if abated and not clinical & {"resolved", "remission", "inactive"}:
        yield path, "con-4", "an abated condition must be inactive, resolved or in remission"
    if in_error and "clinicalStatus" in r:
        yield path, "con-5", "no clinicalStatus when entered-in-error"


def _care_plan(r: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    for i, a in enumerate(_list(r, "activity")):
        if isinstance(a, Mapping) and "detail" in a and "reference" in a:
            yield f"{path}.activity[{i}]", "cpl-3", "provide a reference or detail, not both"


def _organization(r: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    if "name" not in r and "identifier" not in r:
        yield path, "org-1", "an organization needs at least a name or an identifier"


def _observation(r: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    if "dataAbsentReason" in r and any(k.startswith("value") for k in r):
        yield path, "obs-6", "dataAbsentReason only when there is no value"


def _audit_event(r: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    for i, entity in enumerate(_list(r, "entity")):
        if isinstance(entity, Mapping) and "name" in entity and "query" in entity:
            yield f"{path}.entity[{i}]", "sev-1", "either a name or a query, not both"


_RESOURCE_RULES: dict[str, Callable[[Mapping[str, Any], str], Iterator[tuple[str, str, str]]]] = {
    "Consent": _consent,
    "Appointment": _appointment,
    "Goal": _goal,
    "Condition": _condition,
    "CarePlan": _care_plan,
    "Organization": _organization,
    "Observation": _observation,
    "AuditEvent": _audit_event,
}


# --------------------------------------------------------------------- public


def _resource(checker: _Checker, resource: Any, path: str) -> None:
    if not isinstance(resource, Mapping):
        checker.add(path, "structure", "a resource is a JSON object")
        return
    rtype = resource.get("resourceType")
    if rtype not in SCHEMA or rtype in PRIMITIVES:
        checker.add(f"{path}.resourceType", "structure", "not a resource type carecoord writes")
        return
    where = path or str(rtype)
    checker.complex({k: v for k, v in resource.items() if k != "resourceType"}, rtype, where, False)
    rules = _RESOURCE_RULES.get(rtype)
    if rules is not None:
        for at, check, what in rules(resource, where):
            checker.add(at, check, what)


_TYPE_ID = re.compile(r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(/_history/[^/]+)?$")


def external_references(bundle: Any) -> set[str]:
    """The literal references of ``bundle`` that no entry answers (another system's records)."""
    checker = _Checker()
    entries = bundle.get("entry") or []
    held: set[str] = set()
    for entry in entries:
        resource = entry["resource"]
        _resource(checker, resource, "")
        held.add(entry.get("fullUrl"))
        held.add(f"{resource.get('resourceType')}/{resource.get('id')}")
    return {ref for _, ref, _, _ in checker.references if ref not in held}


def bundle_problems(bundle: Any) -> list[str]:
    """Every R4 problem of a ``collection`` Bundle and its resources, references resolved."""
    checker = _Checker()
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        return ["Bundle: structure: not a Bundle"]
    entries = bundle.get("entry") or []
    checker.complex(
        {k: v for k, v in bundle.items() if k not in ("resourceType", "entry")},
        "Bundle",
        "Bundle",
        False,
    )
    by_url: dict[str, str] = {}
    by_id: dict[str, str] = {}
    held: set[tuple[Any, Any]] = set()  # the identifiers of the Bundle's resources
    for i, entry in enumerate(entries):
        at = f"Bundle.entry[{i}]"
        if not isinstance(entry, Mapping) or "resource" not in entry:
            checker.add(at, "bdl-5", "an entry must have a resource")
            continue
        resource = entry["resource"]
        _resource(checker, resource, f"{at}.resource")
        rtype = resource.get("resourceType") if isinstance(resource, Mapping) else None
        url = entry.get("fullUrl")
        problem = primitive_problem("uri", url)
        if problem is not None or not isinstance(url, str):
            checker.add(f"{at}.fullUrl", "format:uri", problem or "fullUrl missing")
        elif url in by_url:
            checker.add(f"{at}.fullUrl", "bdl-7", "fullUrl must be unique in a Bundle")
        elif "/_history/" in url:
            checker.add(f"{at}.fullUrl", "bdl-8", "fullUrl cannot be a version specific reference")
        if isinstance(url, str):
            by_url[url] = str(rtype)
        rid = resource.get("id") if isinstance(resource, Mapping) else None
        if isinstance(rid, str):
            by_id[f"{rtype}/{rid}"] = str(rtype)
        if isinstance(resource, Mapping):
            held |= {
                (i.get("system"), i.get("value"))
                for i in _list(resource, "identifier")
                if isinstance(i, Mapping)
            }
        for key in entry:
            if key not in ("fullUrl", "resource"):
                checker.add(f"{at}.{key}", "structure", "not used in a collection Bundle")
    for path, ref, rtype, targets in checker.references:
        target = by_url.get(ref) or by_id.get(ref)
        if target is None and not ref.startswith(("urn:", "#")):
            named = _TYPE_ID.search(ref)
            kind = rtype or (None if named is None else named["type"])
            if kind is not None:
                checker.target_allowed(kind, targets, path)
            continue
        if target is None:
            checker.add(f"{path}.reference", "ref-resolve", "target not in the Bundle")
            continue
        if rtype is not None and rtype != target:
            checker.add(f"{path}.type", "ref-type", "Reference.type differs from the target's")
        checker.target_allowed(target, targets, path)
    for path, system, value in checker.logical:
        if (system, value) in held:
            checker.add(
                path, "ref-logical", "names a resource of the Bundle without referring to it"
            )
    return checker.problems

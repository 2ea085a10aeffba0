"""An independent FHIR R4 (4.0.1) checker for the export tests.

``fhir.resources`` (R4B) checks structure; it does not check primitive
formats closely, invariants, required bindings or references. This module
does, for the elements carecoord exports, without using any carecoord code:

* a schema (:data:`SCHEMA`) of every element carecoord writes, with its R4
  type, cardinality, required binding and reference targets; an element not
  in it is reported, so a new exported element must be added here (checked
  against the R4 definition) before the tests pass;
* primitive formats: the regexes of the R4 specification for ``id``,
  ``code``, ``uri``, ``date``, ``dateTime``, ``instant``, ``time``,
  ``decimal``, ``positiveInt``, ``string`` (and ``urn:uuid:`` / ``urn:oid:``
  forms of ``uri``);
* invariants, each by its R4 key: ele-1, ext-1, per-1, rng-2, sqty-1, qty-3,
  cpt-2, ref-1, ppc-1..5, app-1..4, gol-1, con-3..5, cpl-3, bdl-5, bdl-7,
  bdl-8 (and ``uri-absolute`` for systems and extension urls);
* required bindings (``binding:<value set>``) with the R4 value sets;
* references inside the Bundle (``ref-resolve``, ``ref-type``, ``ref-target``).

:func:`bundle_problems` returns ``"<path>: <check>: <what>"`` strings; empty
means valid.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from fractions import Fraction
from typing import Any

from _fhir_schema import (
    CHOICES,
    EXTENSION_VALUES,
    PRIMITIVES,
    REQUIRED_VALUE_SETS,
    SCHEMA,
    Element,
)

# ------------------------------------------------------------ primitive formats

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
FORMATS: dict[str, re.Pattern[str]] = {
    "id": re.compile(r"[A-Za-z0-9\-\.]{1,64}"),
    "code": re.compile(r"[^\s]+(\s[^\s]+)*"),
    "uri": re.compile(r"\S*"),
    "string": re.compile(r"[ \r\n\t\S]+"),
    "date": re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY})?)?"),
    "dateTime": re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_ZONE})?)?)?"),
    "instant": re.compile(rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_ZONE}"),
    "time": re.compile(_TIME),
    "decimal": re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"),
    "positiveInt": re.compile(r"\+?[1-9][0-9]*"),
}
_OID = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INT32 = 2**31 - 1


def _decimal_text(value: float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def primitive_problem(kind: str, value: Any) -> str | None:
    """Why ``value`` is not a valid R4 JSON ``kind`` primitive, or None."""
    if kind == "boolean":
        return None if isinstance(value, bool) else "expected true or false"
    if kind in ("decimal", "positiveInt"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "expected a JSON number"
        if isinstance(value, float) and not math.isfinite(value):
            return "not a finite number"
        if kind == "positiveInt" and not (isinstance(value, int) and 1 <= value <= _INT32):
            return "expected an integer 1..2^31-1"
        if not FORMATS[kind].fullmatch(_decimal_text(value)):
            return "number not in the R4 decimal format"
        return None
    if not isinstance(value, str):
        return "expected a JSON string"
    if value == "":
        return "empty string (ele-1)"
    if not FORMATS[kind].fullmatch(value):
        return f"not an R4 {kind}"
    if kind == "string" and _CONTROL.search(value):
        return "control character in a string"
    if kind == "uri" and value.startswith("urn:oid:") and not _OID.fullmatch(value):
        return "malformed urn:oid"
    if kind == "uri" and value.startswith("urn:uuid:") and not _UUID.fullmatch(value):
        return "malformed urn:uuid"
    if kind in ("date", "dateTime", "instant") and len(value) >= 10:
        try:
            date.fromisoformat(value[:10])
        except ValueError:
            return "no such calendar date"
    return None


_PARTS = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)T(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
    r"(?P<f>\.\d+)?(?P<z>Z|[+-]\d\d:\d\d)"
)


def instant_key(text: Any) -> Fraction | None:
    """A full R4 dateTime as seconds since 0001-01-01 UTC (exact; no overflow), else None."""
    match = _PARTS.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    days = date(int(match["y"]), int(match["mo"]), int(match["d"])).toordinal()
    seconds = Fraction(days * 86400 + int(match["h"]) * 3600 + int(match["mi"]) * 60)
    seconds += int(match["s"]) + Fraction(match["f"] or ".0")
    if match["z"] != "Z":
        sign = 1 if match["z"][0] == "+" else -1
        seconds -= sign * (int(match["z"][1:3]) * 3600 + int(match["z"][4:6]) * 60)
    return seconds


# ------------------------------------------------------------------- walking


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        # (path, reference text, Reference.type, allowed targets)
        self.references: list[tuple[str, str, str | None, tuple[str, ...]]] = []

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
        elif element.type == "Reference" and isinstance(value.get("type"), str):
            self.target_allowed(value["type"], element.targets, path)

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
    if isinstance(url, str) and not nested and not _ABSOLUTE.fullmatch(url):
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


def _system_rules(c: _Checker, node: Mapping[str, Any], path: str, nested: bool) -> None:
    system = node.get("system")
    if isinstance(system, str) and not _ABSOLUTE.fullmatch(system):
        c.add(f"{path}.system", "uri-absolute", "system is not an absolute URI")


_DATATYPE_RULES: dict[str, Callable[[_Checker, Mapping[str, Any], str, bool], None]] = {
    "Extension": _extension_rules,
    "Period": _period_rules,
    "Range": _range_rules,
    "Quantity": _quantity_rules,
    "SimpleQuantity": _simple_quantity_rules,
    "ContactPoint": _contact_point_rules,
    "Reference": _reference_rules,
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


_RESOURCE_RULES: dict[str, Callable[[Mapping[str, Any], str], Iterator[tuple[str, str, str]]]] = {
    "Consent": _consent,
    "Appointment": _appointment,
    "Goal": _goal,
    "Condition": _condition,
    "CarePlan": _care_plan,
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
        for key in entry:
            if key not in ("fullUrl", "resource"):
                checker.add(f"{at}.{key}", "structure", "not used in a collection Bundle")
    for path, ref, rtype, targets in checker.references:
        target = by_url.get(ref) or by_id.get(ref)
        if target is None:
            checker.add(f"{path}.reference", "ref-resolve", "target not in the Bundle")
            continue
        if rtype is not None and rtype != target:
            checker.add(f"{path}.type", "ref-type", "Reference.type differs from the target's")
        checker.target_allowed(target, targets, path)
    return checker.problems

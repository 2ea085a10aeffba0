"""FHIR R4 import of measurements: Observations (vital signs, point-of-care results) as
:class:`~carecoord.model.measurements.Measurement` s.

Reads what :func:`~carecoord.fhir._export_clinic.observation_resource` writes and
Observations from elsewhere: a LOINC code (``http://loinc.org``, check digit checked),
the patient and the performer by carecoord identifier or literal reference, an aware
``effectiveDateTime`` / ``effectiveInstant`` / ``effectivePeriod.start``, a UCUM
``valueQuantity`` (its ``code``, else its ``unit``), the first reference range,
an interpretation (``LL``/``HH`` read as low/high), and components. Anything it cannot
read raises :class:`~carecoord.FhirImportError` naming the element, never its value.

The measurements are not stored here: record each with
:meth:`CareCoordinator.record_measurement <carecoord.CareCoordinator.record_measurement>`,
so access, audit, flags and goal readings apply as to any other.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..model import FhirImportError, PatientId, StaffId, ValidationError
from ..model.clinic import VisitId
from ..model.measurements import (
    CATALOGUE,
    LOINC_SYSTEM,
    Interpretation,
    LoincCode,
    MeasuredValue,
    Measurement,
    MeasurementCategory,
    MeasurementId,
    ReferenceRange,
    is_loinc,
)
from ._common import id_system, stable_uuid
from ._export_clinic import INTERPRETATION_SYSTEM, UCUM

__all__ = ["measurement_from_observation", "measurements_from_bundle"]

_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
_RESULTS = frozenset({"final", "amended", "corrected"})
_FLAGS = {"N": "N", "L": "L", "LL": "L", "H": "H", "HH": "H", "A": "A", "AA": "A"}
_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _fail(path: str, message: str) -> FhirImportError:
    return FhirImportError(message, path=path)


def _obj(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, "expected a JSON object")
    return value


def _items(node: Mapping[str, Any], key: str, path: str) -> list[tuple[Mapping[str, Any], str]]:
    value = node.get(key, [])
    if not isinstance(value, list):
        raise _fail(f"{path}.{key}", "expected an array")
    return [(_obj(v, f"{path}.{key}[{i}]"), f"{path}.{key}[{i}]") for i, v in enumerate(value)]


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(path, "expected a finite number")
    return float(value)


def _when(text: Any, path: str) -> datetime:
    if not isinstance(text, str) or "T" not in text:
        raise _fail(path, "expected a dateTime with a time and an offset")
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(path, "not a valid dateTime") from None
    if found.tzinfo is None:
        raise _fail(path, "a dateTime without an offset cannot be placed in time")
    return found


def _reference(
    node: Any, path: str, rtype: str, kind: str | None, urls: Mapping[str, str]
) -> str | None:
    """The carecoord id a Reference names: by identifier (of ``kind``), ``Type/id`` or a
    Bundle fullUrl."""
    ref = _obj(node, path)
    ident = ref.get("identifier")
    if kind is not None and isinstance(ident, Mapping) and ident.get("system") == id_system(kind):
        value = ident.get("value")
        if isinstance(value, str) and _ID.fullmatch(value):
            return value
        raise _fail(f"{path}.identifier.value", "not a carecoord identifier")
    text = ref.get("reference")
    if isinstance(text, str):
        if text in urls:
            text = urls[text]
        prefix = f"{rtype}/"
        if text.startswith(prefix) and _ID.fullmatch(text[len(prefix) :]):
            return text[len(prefix) :]
    return None


def _code(node: Any, path: str) -> LoincCode:
    concept = _obj(node, path)
    for coding, where in _items(concept, "coding", path):
        if coding.get("system") == LOINC_SYSTEM:
            code = coding.get("code")
            if isinstance(code, str) and is_loinc(code):
                return LoincCode(code)
            raise _fail(f"{where}.code", "not a LOINC code with its check digit")
    raise _fail(path, "no LOINC coding")


def _quantity(node: Any, path: str) -> tuple[float, str]:
    q = _obj(node, path)
    code, unit = q.get("code"), q.get("unit")
    chosen = code if q.get("system") == UCUM and isinstance(code, str) else unit
    if not isinstance(chosen, str) or not chosen.strip() or any(c.isspace() for c in chosen):
        raise _fail(path, "a value needs a UCUM unit (code or unit)")
    return _number(q.get("value"), f"{path}.value"), chosen


def _range(node: Mapping[str, Any], path: str) -> ReferenceRange | None:
    ranges = _items(node, "referenceRange", path)
    if not ranges:
        return None
    first, where = ranges[0]
    bounds = {}
    for side in ("low", "high"):
        if side in first:
            bounds[side] = _quantity(first[side], f"{where}.{side}")[0]
    try:
        return ReferenceRange(low=bounds.get("low"), high=bounds.get("high"))
    except ValidationError:
        raise _fail(where, "a reference range needs ordered bounds") from None


def _flag(node: Mapping[str, Any], path: str) -> Interpretation | None:
    for concept, where in _items(node, "interpretation", path):
        for coding, _ in _items(concept, "coding", where):
            if coding.get("system") == INTERPRETATION_SYSTEM and coding.get("code") in _FLAGS:
                return Interpretation(_FLAGS[coding["code"]])
    return None


def _category(node: Mapping[str, Any], path: str, code: LoincCode) -> MeasurementCategory:
    known = {c.value for c in MeasurementCategory}
    for concept, where in _items(node, "category", path):
        for coding, _ in _items(concept, "coding", where):
            if coding.get("system") == _CATEGORY_SYSTEM and coding.get("code") in known:
                return MeasurementCategory(coding["code"])
    definition = CATALOGUE.get(code)
    return definition.category if definition is not None else MeasurementCategory.LABORATORY


def _taken_at(r: Mapping[str, Any], path: str) -> datetime:
    if "effectiveDateTime" in r:
        return _when(r["effectiveDateTime"], f"{path}.effectiveDateTime")
    if "effectiveInstant" in r:
        return _when(r["effectiveInstant"], f"{path}.effectiveInstant")
    if "effectivePeriod" in r:
        start = _obj(r["effectivePeriod"], f"{path}.effectivePeriod").get("start")
        return _when(start, f"{path}.effectivePeriod.start")
    raise _fail(f"{path}.effective[x]", "a measurement needs the time it was taken")


def measurement_from_observation(
    resource: Mapping[str, Any],
    *,
    path: str = "Observation",
    patient_id: PatientId | None = None,
    taken_by: StaffId | None = None,
    urls: Mapping[str, str] | None = None,
) -> Measurement:
    """One Observation as a Measurement (flags as the Observation has them).

    ``patient_id`` and ``taken_by`` stand in when the Observation names no patient or no
    staff performer by a carecoord identifier or a ``Patient/`` / ``Practitioner/``
    reference; ``urls`` maps a Bundle's full URLs to ``Type/id``. The id is the resource
    id when it is a carecoord id, else a stable one derived from the resource.
    """
    r = _obj(resource, path)
    links = urls or {}
    if r.get("resourceType") != "Observation":
        raise _fail(f"{path}.resourceType", "not an Observation")
    if r.get("status") not in _RESULTS:
        raise _fail(f"{path}.status", "only a final (or amended, corrected) result is read")
    code = _code(r.get("code"), f"{path}.code")
    subject = None
    if "subject" in r:
        subject = _reference(r["subject"], f"{path}.subject", "Patient", "patient", links)
    if subject is None and patient_id is None:
        raise _fail(f"{path}.subject", "no carecoord patient")
    by = None
    for p, where in _items(r, "performer", path):
        by = by or _reference(p, where, "Practitioner", "staff", links)
    if by is None and taken_by is None:
        raise _fail(f"{path}.performer", "no staff member who took it")
    value = unit = None
    if "valueQuantity" in r:
        value, unit = _quantity(r["valueQuantity"], f"{path}.valueQuantity")
    parts = []
    for c, where in _items(r, "component", path):
        if "valueQuantity" not in c:
            raise _fail(f"{where}.valueQuantity", "a component needs a quantity")
        number, part_unit = _quantity(c["valueQuantity"], f"{where}.valueQuantity")
        parts.append(
            MeasuredValue(
                code=_code(c.get("code"), f"{where}.code"),
                value=number,
                unit=part_unit,
                reference_range=_range(c, where),
                interpretation=_flag(c, where),
            )
        )
    visit = None
    if "encounter" in r:
        visit = _reference(r["encounter"], f"{path}.encounter", "Encounter", None, links)
    rid = r.get("id")
    if not (isinstance(rid, str) and _ID.fullmatch(rid) and rid not in (".", "..")):
        rid = stable_uuid("Observation", json.dumps(r, sort_keys=True, default=str))
    taken_at = _taken_at(r, path)
    category = _category(r, path, code)
    reference_range = _range(r, path) if value is not None else None
    interpretation = _flag(r, path)
    try:
        return Measurement(
            id=MeasurementId(rid),
            patient_id=PatientId(subject) if subject is not None else patient_id,  # type: ignore[arg-type]
            code=code,
            category=category,
            taken_at=taken_at,
            taken_by=StaffId(by) if by is not None else taken_by,  # type: ignore[arg-type]
            value=value,
            unit=unit,
            reference_range=reference_range,
            components=tuple(parts),
            interpretation=interpretation,
            visit_id=None if visit is None else VisitId(visit),
        )
    except ValidationError as exc:
        raise _fail(f"{path}.{exc.field or 'value'}", "not a valid measurement") from None


def measurements_from_bundle(
    bundle: Mapping[str, Any],
    *,
    patient_id: PatientId | None = None,
    taken_by: StaffId | None = None,
) -> list[Measurement]:
    """Every Observation of a Bundle as a Measurement (see
    :func:`measurement_from_observation`); references to the Bundle's own Encounter,
    Patient and Practitioner entries are resolved through their full URLs."""
    b = _obj(bundle, "Bundle")
    if b.get("resourceType") != "Bundle":
        raise _fail("Bundle.resourceType", "not a Bundle")
    entries = _items(b, "entry", "Bundle")
    urls: dict[str, str] = {}
    for entry, _ in entries:
        found = entry.get("resource")
        url = entry.get("fullUrl")
        if isinstance(found, Mapping) and isinstance(url, str):
            urls[url] = f"{found.get('resourceType')}/{found.get('id')}"
    made = []
    for entry, where in entries:
        found = entry.get("resource")
        if isinstance(found, Mapping) and found.get("resourceType") == "Observation":
            made.append(
                measurement_from_observation(
                    found,
                    path=f"{where}.resource",
                    patient_id=patient_id,
                    taken_by=taken_by,
                    urls=urls,
                )
            )
    return made

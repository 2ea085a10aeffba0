"""The clinic-operations modules export what they define and nothing they do not."""

from __future__ import annotations

import importlib
import inspect

import pytest

import carecoord
import carecoord.model

MODULES = [
    "carecoord.model.clinic",
    "carecoord.model.measurements",
    "carecoord.model.supplies",
    "carecoord.clinic",
    "carecoord.service.flow",
    "carecoord.service.measurements",
    "carecoord.service.supplies",
    "carecoord.service.supply_orders",
    "carecoord.service._clinic",
    "carecoord.service._clinic_access",
    "carecoord.storage._clinic_rows",
    "carecoord.fhir._export_clinic",
    "carecoord.fhir._import_clinic",
    "carecoord.testing._strategies_clinic",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_every_public_thing_the_module_defines(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__), "a name is listed twice"
    assert all(hasattr(module, n) for n in exported)
    defined = {
        n
        for n, value in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and getattr(value, "__module__", None) == name
    }
    operations = {n for n, value in vars(module).items() if type(value).__name__ == "Operation"}
    assert defined | operations <= exported
    for n in exported:
        value = getattr(module, n)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), f"{name}.{n} has no docstring"


def test_the_clinic_names_are_exported_like_every_model_name() -> None:
    ours = {"Visit", "Clinic", "Measurement", "SupplyItem", "StockMovement", "SupplyOrder"}
    assert ours <= set(carecoord.model.__all__)
    assert not ours & set(carecoord.__all__)  # the curated top level keeps the core model

"""Values other systems define: codes from their code systems and references to their records.

:class:`Coding` is one code of a code system (a SNOMED CT or ICD-10 code of a
health concern); :class:`ExternalRef` is a reference to a record another
system holds (an ``Organization`` a referral goes to, the ``Procedure`` it
resulted in), kept as given so that it can be handed on unchanged. Neither is
a carecoord record: carecoord keeps them, it does not resolve them.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from ._base import of_type, optional, text
from ._errors import ValidationError
from .people import Identifier, _absolute_uri

__all__ = ["Coding", "ExternalRef"]

_CODE = re.compile(r"[^\s]+( [^\s]+)*")
"""A FHIR ``code``: no leading or trailing whitespace, single spaces inside."""

_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_TYPE_ID = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.\-]*://\S+/)?(?P<type>[A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}"
    r"(/_history/[A-Za-z0-9\-.]{1,64})?"
)
"""A relative ``Type/id`` (optionally versioned), or an absolute URL ending in one."""
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")


def _code(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if not _CODE.fullmatch(value):
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be a code (no leading, trailing or "
            "double whitespace)",
            field=attr.name,
        )


def _resource_type(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not _RESOURCE_TYPE.fullmatch(value):
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be a FHIR resource type name",
            field=attr.name,
        )


_REFERENCE_TEXT = text(max_len=1000)


def _reference(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    _REFERENCE_TEXT(inst, attr, value)
    where = f"{type(inst).__name__}.{attr.name}"
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValidationError(f"{where} must not contain whitespace", field=attr.name)
    if value.lower().startswith("urn:"):
        raise ValidationError(
            f"{where} must not be a urn: (it names a resource of one exchange only)",
            field=attr.name,
        )
    if not (_TYPE_ID.fullmatch(value) or _SCHEME.fullmatch(value)):
        raise ValidationError(
            f"{where} must be a relative Type/id or an absolute URL", field=attr.name
        )


@attrs.frozen
class Coding:
    """One code of a code system (FHIR ``Coding``): ``system`` (an absolute URI) and ``code``.

    ``display`` is the code system's text for the code as the source gave
    it; it is kept out of ``repr`` (a local system's display may say more
    than a code does).
    """

    system: str = attrs.field(validator=[text(max_len=500), _absolute_uri])
    code: str = attrs.field(validator=[text(max_len=200), _code])
    display: str | None = attrs.field(
        default=None, validator=optional(text(max_len=500)), repr=False
    )


@attrs.frozen
class ExternalRef:
    """A reference to a record another system holds, kept as that system gave it.

    ``reference`` is a literal reference: a relative ``Type/id`` (``Organization/org-7``,
    also ``.../_history/2``) or an absolute URL (not a ``urn:``, which names a
    resource of one exchange only, nor a ``#contained`` one). ``identifier``
    is a logical reference (system and value; the value is PHI and never
    shown). At least one of the two is given. ``resource_type`` is the
    target's type when the source stated it (it must agree with a
    ``Type/id`` reference); ``display`` the source's label (kept out of
    ``repr``). carecoord does not resolve the reference: it keeps it and
    writes it back out as it came.
    """

    resource_type: str | None = attrs.field(default=None, validator=optional(_resource_type))
    reference: str | None = attrs.field(default=None, validator=optional(_reference))
    identifier: Identifier | None = attrs.field(
        default=None, validator=optional(of_type(Identifier))
    )
    display: str | None = attrs.field(
        default=None, validator=optional(text(max_len=500)), repr=False
    )

    def __attrs_post_init__(self) -> None:
        if self.reference is None and self.identifier is None:
            raise ValidationError(
                "ExternalRef needs a reference or an identifier", field="reference"
            )
        named = self._named_type()
        if named is not None and self.resource_type is not None and named != self.resource_type:
            raise ValidationError(
                "ExternalRef.resource_type differs from the type its reference names",
                field="resource_type",
            )

    def _named_type(self) -> str | None:
        found = None if self.reference is None else _TYPE_ID.fullmatch(self.reference)
        return None if found is None else found["type"]

    @property
    def target_type(self) -> str | None:
        """The target's resource type: as stated, else as its ``Type/id`` reference names it."""
        return self.resource_type or self._named_type()


def external_refs_of(*types: str) -> Any:
    """Validator: a tuple of :class:`ExternalRef` whose known target types are among ``types``."""
    allowed = frozenset(types)

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if item is None:
                continue
            if not isinstance(item, ExternalRef):
                raise ValidationError(
                    f"{type(inst).__name__}.{attr.name} must hold ExternalRef values",
                    field=attr.name,
                )
            if item.target_type is not None and item.target_type not in allowed:
                raise ValidationError(
                    f"{type(inst).__name__}.{attr.name} may refer to "
                    f"{', '.join(sorted(allowed))} only",
                    field=attr.name,
                )

    return check

"""Notification templates per language, and how the recipient's language picks one.

A :class:`~carecoord.notify.NotificationRule` is written in one language (its
``language``, English in the shipped rules) and carries a
:class:`Translation` per further language. The template a recipient gets is
chosen by :func:`choose_template`:

1. the rule's own template or a translation whose tag equals the recipient's
   language (case-insensitive: ``es-MX`` for ``es-MX``);
2. else one whose tag is the recipient's primary language (``es`` for
   ``es-MX``), or, failing that, any with the same primary language;
3. else the rule's own template (the fallback: English in the shipped rules).

The recipient's language is the patient's ``language``; for a contact, the
language recorded for them in the patient's
:class:`~carecoord.model.social.CommunicationNeeds`, else the patient's;
staff get the rule's own language.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ..model._base import text
from ..model.people import _language
from ..model.social import primary_language

__all__ = ["Translation", "choose_template"]


@attrs.frozen
class Translation:
    """A rule's subject and body in ``language`` (same placeholders as the rule's own)."""

    language: str = attrs.field(validator=_language)
    subject: str = attrs.field(validator=text(max_len=500))
    body: str = attrs.field(validator=text(max_len=4000))


def choose_template(
    own: Translation, translations: Sequence[Translation], language: str | None
) -> Translation:
    """The template for a recipient speaking ``language`` (see the module documentation)."""
    if not language:
        return own
    wanted = language.casefold()
    primary = wanted.split("-", 1)[0]
    candidates = (own, *translations)
    for candidate in candidates:
        if candidate.language.casefold() == wanted:
            return candidate
    for candidate in candidates:
        if candidate.language.casefold() == primary:
            return candidate
    for candidate in candidates:
        if primary_language(candidate.language) == primary:
            return candidate
    return own

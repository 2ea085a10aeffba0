"""A griffe extension for the API reference: Sphinx roles in docstrings become code spans.

carecoord's docstrings name other objects the Sphinx way (``:class:`~carecoord.X```,
``:meth:`CareCoordinator.worklist <carecoord.CareCoordinator.worklist>```). Markdown
has no such roles, so the reference would show them literally; this turns each into a
code span of what Sphinx would display (the last part for ``~``, the title when one is
given). Loaded by mkdocs.yml (``extensions``); nothing in the package imports it.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj|const|term|ref):`([^`]+)`")
_TITLED = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$")


def _shown(target: str) -> str:
    titled = _TITLED.match(target)
    if titled:
        return titled["title"]
    if target.startswith("~"):
        return target[1:].rsplit(".", 1)[-1]
    return target.lstrip("!")


def plain(text: str) -> str:
    """``text`` with every Sphinx role written as a Markdown code span."""
    return _ROLE.sub(lambda m: f"`{_shown(m[1])}`", text)


class SphinxRoles(griffe.Extension):
    """Rewrite the docstring of every object griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)

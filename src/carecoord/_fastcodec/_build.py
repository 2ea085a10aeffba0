"""Making attrs objects without ``__init__``: generated code and mutable twins.

The trusted decoder (:mod:`carecoord._fastcodec`) and :func:`builder` make
objects whose values are already known to be valid, so they skip attrs'
``__init__`` (its validators, and for frozen classes one ``object.__setattr__``
call per field). A frozen slotted class gets a *twin*: an empty subclass that
adds no slot and allows plain attribute assignment. An object is created as
the twin, its fields are assigned (each a plain slot store the interpreter
specialises), and its ``__class__`` is then set to the real class, which
CPython allows because the two share one layout. The result is an ordinary
instance of the class: equal, hashed and pickled like any other. A class the
twin does not fit (not slotted, a custom ``__new__``, a field name that is not
an identifier) is assembled with the slots' own setters instead.
"""

from __future__ import annotations

import itertools
import keyword
import threading
import types
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from ._values import Declined

__all__ = ["LOCK", "Compiled", "Namespace", "Unsupported", "assembly", "builder"]


class Unsupported(Exception):
    """A type the fast codec does not compile (its records use the cattrs path)."""


_names = itertools.count()


LOCK = threading.RLock()
"""Held while any codec function is compiled (the tables are read without it); one lock
for every table, since compiling one function may compile others."""

F = TypeVar("F")


class Compiled(Generic[F]):
    """Functions compiled once per key (a type, or a type and a field): the table of
    those compiled, the keys that cannot be, and a guard against a recursive type."""

    def __init__(self) -> None:
        self.table: dict[Any, F] = {}
        """Read without the lock: a key appears only once its function is complete."""
        self._failed: set[Any] = set()
        self._building: set[Any] = set()

    def build(self, key: Any, make: Callable[[], F]) -> F:
        """The function of ``key``, compiled by ``make`` the first time (under
        :data:`LOCK`); :class:`Unsupported` again for a key that could not be compiled
        and for one being compiled (a recursive type)."""
        with LOCK:
            found = self.table.get(key)
            if found is not None:
                return found
            if key in self._failed or key in self._building:
                raise Unsupported(key)
            self._building.add(key)
            try:
                made = make()
            except Unsupported:
                self._failed.add(key)
                raise
            finally:
                self._building.discard(key)
            self.table[key] = made
            return made


class Namespace:
    """The globals of one generated function: helpers under fresh names."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {"_D": Declined, "_new": object.__new__}

    def add(self, value: Any) -> str:
        """A fresh global name bound to ``value``."""
        name = f"_h{next(_names)}"
        self.values[name] = value
        return name

    def local(self) -> str:
        """A fresh name for a local variable of the generated code."""
        return f"_l{next(_names)}"

    def compile(self, lines: list[str], name: str, what: Any) -> Callable[..., Any]:
        """Compile ``lines`` and return the function ``name`` they define."""
        label = getattr(what, "__qualname__", None) or repr(what)
        code = compile("\n".join(lines), f"<carecoord fast codec: {name} {label}>", "exec")
        exec(code, self.values)
        return self.values[name]  # type: ignore[no-any-return]


_TWINS: dict[type, type | None] = {}


def _twin(cls: Any) -> type | None:
    """The mutable twin of slotted ``cls`` (see the module documentation), or ``None``."""
    if cls in _TWINS:
        return _TWINS[cls]
    twin: type | None = None
    if "__slots__" in cls.__dict__ and cls.__dictoffset__ == 0 and cls.__new__ is object.__new__:
        body = {
            "__slots__": (),
            "__module__": cls.__module__,
            "__qualname__": f"{cls.__qualname__}.<assembling>",
            # both: one Python-level override of either keeps the slow generic path
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
        }
        try:
            candidate: type | None = type(cls)(cls.__name__, (cls,), body)
            probe: Any = object.__new__(candidate)
            probe.__class__ = cls  # the layouts must agree
        except Exception:  # a metaclass or __init_subclass__ that refuses; another layout
            candidate = None
        twin = candidate
    _TWINS[cls] = twin
    return twin


def _setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The fastest way to set attribute ``name`` on a new ``cls`` without a twin."""
    slot = cls.__dict__.get(name)
    if type(slot) is types.MemberDescriptorType:
        return slot.__set__
    return lambda obj, value: object.__setattr__(obj, name, value)


class Assembly:
    """Lines that create an object of ``cls``, set its fields, and make it final."""

    def __init__(self, cls: type, ns: Namespace, names: list[str], obj: str) -> None:
        self.cls = cls
        self._ns = ns
        self._obj = obj
        ns.values["_cls"] = cls
        twin = _twin(cls)
        if twin is not None and all(n.isidentifier() and not keyword.iskeyword(n) for n in names):
            ns.values["_twin"] = twin
            self._twin = True
        else:
            self._twin = False

    def create(self, indent: str) -> str:
        """The line that makes the empty object."""
        return f"{indent}{self._obj} = _new({'_twin' if self._twin else '_cls'})"

    def assign(self, indent: str, name: str, value: str) -> str:
        """The line that sets field ``name`` of the object to ``value`` (an expression)."""
        if self._twin:
            return f"{indent}{self._obj}.{name} = {value}"
        return f"{indent}{self._ns.add(_setter(self.cls, name))}({self._obj}, {value})"

    def finish(self, indent: str) -> list[str]:
        """The lines that make the object an instance of ``cls`` (before its checks run)."""
        return [f"{indent}{self._obj}.__class__ = _cls"] if self._twin else []


def assembly(cls: type, ns: Namespace, names: list[str], obj: str = "o") -> Assembly:
    """How generated code in ``ns`` makes objects of ``cls`` with fields ``names`` in ``obj``."""
    return Assembly(cls, ns, names, obj)


_BUILDERS: dict[type, Callable[..., Any]] = {}


def builder(cls: type[Any]) -> Callable[..., Any]:
    """A function taking ``cls.__init__``'s arguments that makes the object without ``__init__``.

    For values already known to be valid (the validators are not run;
    converters and ``__attrs_post_init__`` are). Raises :class:`Unsupported`
    for a class it cannot build (not attrs, ``__attrs_pre_init__``, a
    converter taking the instance, a factory taking ``self``).
    """
    found = _BUILDERS.get(cls)
    if found is not None:
        return found
    if not attrs.has(cls) or cls.__new__ is not object.__new__:
        raise Unsupported(cls)
    if hasattr(cls, "__attrs_pre_init__"):
        raise Unsupported(cls)
    fields = attrs.fields(cls)
    ns = Namespace()
    missing = ns.add(attrs.NOTHING)
    made = assembly(cls, ns, [f.name for f in fields], "_o")
    params: list[str] = []
    keywords: list[str] = []
    body = [made.create("    ")]
    for f in fields:
        if not f.init:
            raise Unsupported(cls)
        alias = f.alias or f.name
        if alias.startswith("_") or not alias.isidentifier() or keyword.iskeyword(alias):
            raise Unsupported(cls)  # it could shadow a name of the generated code
        value = alias
        default = f.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            factory: Any = default
            if factory.takes_self:
                raise Unsupported(cls)
            param = f"{alias}={missing}"
            body.append(f"    if {alias} is {missing}: {alias} = {ns.add(factory.factory)}()")
        elif default is not attrs.NOTHING:
            param = f"{alias}={ns.add(default)}"
        else:
            param = alias
        (keywords if f.kw_only else params).append(param)
        if f.converter is not None:
            if isinstance(f.converter, attrs.Converter) or not callable(f.converter):
                raise Unsupported(cls)
            value = f"{ns.add(f.converter)}({alias})"
        body.append(made.assign("    ", f.name, value))
    if keywords:
        params += ["*", *keywords]
    body += made.finish("    ")
    if hasattr(cls, "__attrs_post_init__"):
        body.append("    _o.__attrs_post_init__()")
    body.append("    return _o")
    lines = [f"def build({', '.join(params)}):", *body]
    found = _BUILDERS[cls] = ns.compile(lines, "build", cls)
    return found

"""What an operation can raise, read from the code: the domain errors raised (or built) by its
endpoint, its dependencies and every function of the platform they call, as far as the calls
can be followed by name and by type annotation. Feeds each operation's documented problem
codes and its security (kit.openapi).

The reading is static and errs in one direction only: an error raised on some path of a
called function is listed even if this operation never takes that path, while a call through
something neither a name nor an annotation reveals (a value in a dict, an untyped local) is
not followed."""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import typing
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import FunctionType, ModuleType
from typing import Any

from yanxiu.kit.errors import DomainError

# Modules whose functions are read; anything else (FastAPI, SQLAlchemy…) is a leaf.
PLATFORM_PACKAGES = (
    "yanxiu",
    "enrollment",
    "learning",
    "credits",
    "lessons",
    "insights",
    "gateway",
)


@dataclass(frozen=True)
class Reach:
    """What a set of entry points reaches: the domain errors raised or built on the way, and
    the platform functions called (which tell, among others, how a caller is authenticated)."""

    errors: frozenset[type[DomainError]]
    functions: frozenset[FunctionType]


def reach(roots: Iterable[Callable[..., Any]], *, packages: Iterable[str] = ()) -> Reach:
    """What the roots (an endpoint and its dependencies) reach, reading the platform's
    modules and those of `packages` (the endpoint's own, where it is not the platform's)."""
    scope = frozenset({*PLATFORM_PACKAGES, *packages})
    token = _packages.set(scope)
    try:
        found: set[type[DomainError]] = set()
        seen: set[FunctionType] = set()
        pending = [fn for fn in map(_function, roots) if fn is not None]
        while pending:
            fn = pending.pop()
            if fn in seen:
                continue
            seen.add(fn)
            errors, callees = _analysed(fn, scope)
            found.update(errors)
            pending.extend(f for f in callees if f not in seen)
        return Reach(frozenset(found), frozenset(seen))
    finally:
        _packages.reset(token)


@dataclass(frozen=True)
class _Instance:
    """A value known only by its type (a typed parameter, attribute or return value)."""

    cls: type


_packages: ContextVar[frozenset[str]] = ContextVar("packages", default=frozenset())


def _ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".", 1)[0] in _packages.get()


def _function(obj: Any) -> FunctionType | None:
    """The plain function behind a callable of the platform, if there is one."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, functools.partial):
        obj = obj.func
    if isinstance(obj, property):
        obj = obj.fget
    obj = getattr(obj, "__func__", obj)  # bound methods
    try:
        obj = inspect.unwrap(obj)
    except ValueError:
        return None
    return obj if isinstance(obj, FunctionType) and _ours(obj) else None


def _classes_in(annotation: Any, scope: dict[str, Any]) -> list[type]:
    """The platform classes an annotation names (unwrapping Annotated, Optional, unions)."""
    if isinstance(annotation, str):
        try:
            # as typing.get_type_hints does, one annotation at a time
            annotation = eval(annotation, scope)
        except Exception:
            return []
    if isinstance(annotation, type):
        return [annotation] if _ours(annotation) else []
    return [c for arg in typing.get_args(annotation) for c in _classes_in(arg, scope)]


@functools.cache
def _attribute_types(cls: type, packages: frozenset[str]) -> dict[str, list[type]]:
    """The declared types of a class's attributes (dataclass fields, annotated attributes);
    `packages`, the packages read, only keys the cache."""
    out: dict[str, list[type]] = {}
    for klass in reversed(cls.__mro__):
        module = inspect.getmodule(klass)
        names = dict(vars(module)) if module is not None else {}
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            classes = _classes_in(annotation, names)
            if classes:
                out[name] = classes
    return out


def _returns(fn: FunctionType) -> list[_Instance]:
    annotation = fn.__annotations__.get("return")
    return [_Instance(c) for c in _classes_in(annotation, fn.__globals__)] if annotation else []


def _owner(fn: FunctionType) -> type | None:
    """The class a method was defined in, for `self.x` and `cls.x`."""
    parts = fn.__qualname__.split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return None
    node: Any = fn.__globals__.get(parts[0])
    for part in parts[1:-1]:
        node = getattr(node, part, None)
    return node if isinstance(node, type) else None


def _has_contents(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


class _Resolver:
    """Names in one function's source, resolved to what they stand for."""

    def __init__(self, fn: FunctionType) -> None:
        self.scope: dict[str, Any] = dict(fn.__globals__)
        if fn.__closure__:
            self.scope.update(
                (name, cell.cell_contents)
                for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=True)
                if _has_contents(cell)
            )
        self.params: dict[str, list[Any]] = {
            name: [_Instance(c) for c in _classes_in(annotation, fn.__globals__)]
            for name, annotation in fn.__annotations__.items()
            if name != "return"
        }
        owner = _owner(fn)
        if owner is not None:
            self.params.setdefault("self", [_Instance(owner)])
            self.params.setdefault("cls", [owner])

    def resolve(self, node: ast.AST) -> list[Any]:
        if isinstance(node, ast.Name):
            if self.params.get(node.id):
                return self.params[node.id]
            return [self.scope[node.id]] if node.id in self.scope else []
        if isinstance(node, ast.Attribute):
            return [v for base in self.resolve(node.value) for v in _attribute(base, node.attr)]
        if isinstance(node, ast.Call):
            return [v for callee in self.resolve(node.func) for v in _result(callee)]
        if isinstance(node, ast.Await):
            return self.resolve(node.value)
        return []


def _attribute(base: Any, name: str) -> Iterator[Any]:
    if isinstance(base, _Instance):
        value = inspect.getattr_static(base.cls, name, None)
        if value is not None:
            yield value
        else:
            declared = _attribute_types(base.cls, _packages.get())
            yield from (_Instance(c) for c in declared.get(name, ()))
    elif isinstance(base, (ModuleType, type)) or _ours(base):
        value = inspect.getattr_static(base, name, None)
        if value is None:
            value = getattr(base, name, None)
        if value is not None:
            yield value


def _result(callee: Any) -> list[Any]:
    """What calling `callee` gives, as far as its type says."""
    if isinstance(callee, type):
        return [_Instance(callee)] if _ours(callee) else []
    fn = _function(callee)
    return _returns(fn) if fn is not None else []


def _callee(obj: Any) -> FunctionType | None:
    """The function a call of `obj` runs: a function, a class's __init__, an instance's
    __call__."""
    if isinstance(obj, _Instance):
        return _function(inspect.getattr_static(obj.cls, "__call__", None))
    if isinstance(obj, type):
        return _function(inspect.getattr_static(obj, "__init__", None)) if _ours(obj) else None
    return _function(obj)


@functools.cache
def _tree(fn: FunctionType) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _targets(tree: ast.AST) -> Iterator[ast.AST]:
    """What a function calls or raises: the callees of its calls, the errors of its raises."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node.func
        elif isinstance(node, ast.Raise) and node.exc is not None:
            yield node.exc


@functools.cache
def _analysed(
    fn: FunctionType, scope: frozenset[str]
) -> tuple[frozenset[type[DomainError]], tuple[FunctionType, ...]]:
    """The errors `fn` raises and the functions it calls (`scope`: the packages read)."""
    tree = _tree(fn)
    if tree is None:
        return frozenset(), ()
    resolver = _Resolver(fn)
    errors: set[type[DomainError]] = set()
    callees: dict[FunctionType, None] = {}
    for target in _targets(tree):
        for obj in resolver.resolve(target):
            if isinstance(obj, type) and issubclass(obj, DomainError):
                errors.add(obj)  # raised or built: `raise E`, `raise E(...)`, `E(...)`
                continue
            if isinstance(obj, _Instance) and issubclass(obj.cls, DomainError):
                continue  # `raise exc` of a typed variable: its type says too little
            callee = _callee(obj)
            if callee is not None and callee is not fn:
                callees[callee] = None
    return frozenset(errors), tuple(callees)

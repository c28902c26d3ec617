"""Request parameters (请求参数) read without working out each parameter's shape again on every
request.

FastAPI (0.163) turns a request's path, query and header values into a route's arguments with
`request_params_to_args`, and for every declared parameter of every request it first works
out, from the parameter's annotation, what the parameter is: whether it is a model of several
query values, which names it may arrive under, whether it is JSON, whether it takes a list —
`typing.get_origin` / `get_args` and subclass checks, about eighty calls for a list route with a
dozen filters. None of it can change once the route exists. Profiled in-process, that work was
about a sixth of the CPU of `GET /lessons?limit=20` (13 query parameters), more than the
validation of the values themselves.

`remember_parameter_shapes()` wraps those four pure look-ups of FastAPI's module in memos keyed
by the parameter (or annotation) object, so each is worked out once per route and the request
path keeps FastAPI's own logic unchanged: same aliases, same defaults, same errors. Every route
of every service gains at once; there is no route-specific path. If a FastAPI upgrade renames a
look-up, that look-up is left as it is (nothing breaks; the test of this module says so)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi.dependencies import utils as fastapi_utils

# The look-ups, by their names in `fastapi.dependencies.utils`, whose result depends on the
# parameter object (or annotation) alone.
FIELD_LOOKUPS = ("_get_param_model", "_get_param_aliases", "_is_json_field")
ANNOTATION_LOOKUPS = ("field_annotation_is_sequence",)
# Parameters and annotations live as long as their routes; a process builds a few thousand at
# most (a test process builds many apps). Past this the memo starts again rather than grow.
MEMO_LIMIT = 50_000


def _memo(lookup: Callable[..., Any]) -> Callable[..., Any]:
    """The lookup, remembered per first argument (by identity: FastAPI's parameter objects are
    dataclasses, equal by value and unhashable) and keyword arguments. The argument is kept in
    the entry, so its id cannot be reused by another object while the entry lives."""
    memo: dict[tuple[int, tuple[tuple[str, Any], ...]], tuple[object, Any]] = {}

    @functools.wraps(lookup)
    def remembered(subject: object, **options: Any) -> Any:
        key = (id(subject), tuple(sorted(options.items())))
        hit = memo.get(key)
        if hit is not None and hit[0] is subject:
            return hit[1]
        result = lookup(subject, **options)
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[key] = (subject, result)
        return result

    remembered.__yanxiu_memo__ = True  # type: ignore[attr-defined]
    return remembered


def remember_parameter_shapes() -> list[str]:
    """Installs the memos (once per process; later calls change nothing) and returns the names
    of the look-ups that are memoised."""
    installed = []
    for name in (*FIELD_LOOKUPS, *ANNOTATION_LOOKUPS):
        lookup = getattr(fastapi_utils, name, None)
        if lookup is None:
            continue
        if not getattr(lookup, "__yanxiu_memo__", False):
            setattr(fastapi_utils, name, _memo(lookup))
        installed.append(name)
    return installed

"""Turn a request's ``params`` into a generated model, or a `ClientError` a person can act on.

Rules, in the order they apply:

* ``params`` absent or ``null`` is read as ``{}`` (whether a method *requires* a params object
  is the caller's decision; the reference rejects a missing ``params`` key). An empty array is
  also read as ``{}``, as the reference does.
* An explicit ``null`` for a top-level field is the same as leaving the field out: the model
  gets the field's default. The key still counts as *sent*: it is in ``model.model_fields_set``.
  That is how a caller tells the tri-state fields apart, e.g. ``thread/realtime/start``
  ``prompt``::

      absent          -> "prompt" not in p.model_fields_set
      "prompt": null  -> "prompt" in p.model_fields_set and p.prompt is None
      "prompt": "x"   -> "prompt" in p.model_fields_set and p.prompt == "x"

  Nested objects are validated as sent (a ``null`` inside them is accepted wherever the schema
  makes the field optional) because free-form values such as ``config`` or ``outputSchema`` may
  legitimately contain nulls.
* Unknown fields are ignored (newer clients send ``protocolVersion``, ``turnTrigger``, ...).
* ``approvalsReviewer: "auto_review"`` (the newer name of the same reviewer) is read as the
  0.120 value ``"guardian_subagent"``.
* Values are checked strictly, as serde does: ``"5"`` is not an integer, ``1`` is not a boolean.
* Filesystem paths (fields named ``cwd``, ``cwds``, ``path``, ``…Path``, ``roots``, ``…Roots``,
  ``extraLogFiles``, at any depth) must not contain a NUL byte nor be longer than
  `MAX_PATH_BYTES` (Linux ``PATH_MAX``): such a value could never name a file, and passing it on
  fails deep inside the OS.
* Base64 fields (realtime audio ``data``) must be valid base64 (`check_base64`).
* Error messages quote at most `MAX_QUOTED_CHARS` characters of a value the client sent.

Errors use the reference's serde wording and always name the field, e.g.
``Invalid request: missing field `threadId` `` or
``Invalid request: `threadId`: invalid type: integer `5`, expected a string``.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar, cast, overload

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from typing_extensions import TypeAliasType

from parley.rpc.errors import ClientError

M = TypeVar("M", bound=BaseModel)

_PREFIX = "Invalid request: "
MAX_PATH_BYTES = 4096
MAX_QUOTED_CHARS = 200
# Fields holding filesystem paths (or lists of them); `keyPath` is a config key, not a file.
_PATH_FIELD = re.compile(r"^(?:cwds?|path|roots|extraLogFiles|writable_roots|\w+(?:Path|Roots))$")
_NOT_PATH_FIELDS = frozenset({"keyPath"})
# Keys that carry the tag of the protocol's tagged unions; pydantic puts the tag value in the
# error location of a discriminated union, which is not a field and must not be shown.
_TAG_KEYS = ("type", "method", "mode")
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")

# Newer clients send values that 0.120 knows under another name.
_RENAMED_VALUES: Mapping[str, Mapping[str, str]] = {
    "approvalsReviewer": {"auto_review": "guardian_subagent"},
}


@overload
def parse_params(model_cls: type[M], params: object) -> M: ...


@overload
def parse_params(model_cls: TypeAliasType, params: object) -> BaseModel: ...


def parse_params(model_cls: type[BaseModel] | TypeAliasType, params: object) -> BaseModel:
    """Validate ``params`` into ``model_cls`` following the module's rules.

    ``model_cls`` is a generated model class (``ThreadStartParams``) or a generated union alias
    (``LoginAccountParams``), in which case the matching variant's model is returned.
    Raises `ClientError` (-32600) with a message naming the offending field.
    """
    sent = _params_object(params)
    data = {key: value for key, value in sent.items() if value is not None}
    check_paths(data)
    for key, renames in _RENAMED_VALUES.items():
        value = data.get(key)
        if isinstance(value, str) and value in renames:
            data[key] = renames[value]
    try:
        if isinstance(model_cls, type):
            result: object = model_cls.model_validate(data, strict=True)
        else:
            result = _adapter(model_cls).validate_python(data, strict=True)
    except ValidationError as exc:
        raise ClientError(describe_validation_error(exc, data)) from None
    if not isinstance(result, BaseModel):  # a generated alias that is not an object type
        raise TypeError(f"{model_cls!r} does not describe a params object")
    audio = getattr(result, "audio", None)
    if audio is not None:
        # Only generated models have an `audio` field, so the module is loaded by now.
        from parley.protocol.models import ThreadRealtimeAudioChunk

        if isinstance(audio, ThreadRealtimeAudioChunk):
            check_base64(audio.data, "audio.data")
    _record_sent_nulls(result, sent)
    return result


def describe_validation_error(exc: ValidationError, data: object) -> str:
    """One message for all of ``exc``'s errors, in the reference's ``Invalid request:`` style.

    ``data`` is the value that was validated; it is walked to turn pydantic's error locations
    into field paths (``input[0].text``) without the union branch labels pydantic inserts.
    """
    located = [_locate(error, data) for error in exc.errors(include_url=False)]
    messages: list[str] = []
    handled_unions: set[tuple[str | int, ...]] = set()
    for item in located:
        if item.union_path is None:
            messages.append(_describe_one(item))
            continue
        if item.union_path in handled_unions:
            continue
        handled_unions.add(item.union_path)
        group = [other for other in located if other.union_path == item.union_path]
        messages.extend(_describe_union(item.union_path, group))
    unique = list(dict.fromkeys(messages))
    return _PREFIX + "; ".join(unique)


def check_paths(params: object) -> None:
    """The path rule alone, for the few methods whose params have no generated model."""
    problem = _path_problem(params, ())
    if problem is not None:
        raise ClientError(_PREFIX + problem)


def check_base64(value: str, field: str) -> None:
    """Raise `ClientError` naming `field` unless `value` is standard, padded base64."""
    try:
        # strict_mode still accepts stray padding after a full quantum ("QUJD="): length too.
        if len(value) % 4:
            raise binascii.Error("length is not a multiple of 4")
        binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        raise ClientError(f"{_PREFIX}`{field}`: invalid base64 data") from None


# -- internals ---------------------------------------------------------------------------------


def _path_problem(value: object, path: tuple[str | int, ...]) -> str | None:
    """The first path field holding a value no filesystem path can have, described."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*path, key)
            if (
                isinstance(key, str)
                and key not in _NOT_PATH_FIELDS
                and _PATH_FIELD.match(key)
                and (problem := _bad_path_value(item, here)) is not None
            ):
                return problem
            if isinstance(item, dict | list) and (problem := _path_problem(item, here)):
                return problem
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list) and (problem := _path_problem(item, (*path, index))):
                return problem
    return None


def _bad_path_value(value: object, path: tuple[str | int, ...]) -> str | None:
    candidates = value if isinstance(value, list) else [value]
    for index, item in enumerate(candidates):
        if not isinstance(item, str):
            continue
        where = _show_path((*path, index) if isinstance(value, list) else path)
        if "\x00" in item:
            return f"`{where}`: invalid path: contains a NUL character"
        too_long = len(item) > MAX_PATH_BYTES  # checked first: never encode a huge string
        if too_long or len(item.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
            return f"`{where}`: invalid path: longer than {MAX_PATH_BYTES} bytes"
    return None


def _params_object(params: object) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, dict):
        return cast(dict[str, Any], params)
    if isinstance(params, list) and not params:
        return {}
    raise ClientError(f"{_PREFIX}`params`: invalid type: {_unexpected(params)}, expected an object")


@cache
def _adapter(alias: TypeAliasType) -> TypeAdapter[Any]:
    # pydantic accepts a TypeAliasType at runtime; its stubs only spell out type forms.
    adapter: TypeAdapter[Any] = TypeAdapter(cast(Any, alias))
    return adapter


def _record_sent_nulls(model: BaseModel, sent: Mapping[str, Any]) -> None:
    """Mark fields the client sent as ``null`` as set, so callers can see they were present."""
    nulls = {key for key, value in sent.items() if value is None}
    if not nulls:
        return
    for name, field in type(model).model_fields.items():
        if name in nulls or (field.alias is not None and field.alias in nulls):
            model.__pydantic_fields_set__.add(name)


class _Located:
    """A pydantic error with its location turned into a field path."""

    __slots__ = ("error", "path", "union_path")

    def __init__(
        self,
        error: ErrorDetails,
        path: tuple[str | int, ...],
        union_path: tuple[str | int, ...] | None,
    ) -> None:
        self.error = error
        self.path = path
        # Where an untagged union failed as a whole (each branch reports its own error).
        self.union_path = union_path


def _locate(error: ErrorDetails, data: object) -> _Located:
    loc = error["loc"]
    path: list[str | int] = []
    union_path: tuple[str | int, ...] | None = None
    current: object = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(part, int) and isinstance(current, list) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
            continue
        if isinstance(current, dict):
            if not last and any(current.get(tag) == part for tag in _TAG_KEYS):
                continue  # the tag of a discriminated union: not a field
            if part in current:
                path.append(part)
                current = current[part]
                continue
        if last and error["type"] == "missing":
            path.append(part)
            continue
        # A branch label of an untagged union ("str", "literal['a','b']", a model name).
        if union_path is None:
            union_path = tuple(path)
    return _Located(error, tuple(path), union_path)


def _show_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _with_path(path: Sequence[str | int], message: str) -> str:
    return f"`{_show_path(path)}`: {message}" if path else message


def _describe_one(item: _Located) -> str:
    error = item.error
    kind = error["type"]
    value = error["input"]
    ctx = error.get("ctx") or {}
    path = item.path
    if kind == "missing":
        return _with_path(path[:-1], f"missing field `{path[-1]}`")
    if kind == "union_tag_not_found":
        tag = str(ctx.get("discriminator", "'type'")).strip("'")
        return _with_path(path, f"missing field `{tag}`")
    if kind == "union_tag_invalid":
        tag = str(ctx.get("discriminator", "'type'")).strip("'")
        sent = value.get(tag) if isinstance(value, dict) else value
        choices = _QUOTED.findall(str(ctx.get("expected_tags", "")))
        return _with_path((*path, tag), _bad_choice(sent, choices, []))
    if kind == "literal_error":
        choices = _QUOTED.findall(str(ctx.get("expected", "")))
        return _with_path(path, _bad_choice(value, choices, []))
    if kind in _EXPECTED:
        return _with_path(path, f"invalid type: {_unexpected(value)}, expected {_EXPECTED[kind]}")
    if kind in _BOUNDS:
        bound = ctx.get(_BOUNDS[kind][0])
        wanted = _BOUNDS[kind][1].format(bound)
        if kind == "greater_than_equal" and bound == 0 and isinstance(value, int):
            wanted = "a non-negative integer"
        return _with_path(path, f"invalid value: {_unexpected(value)}, expected {wanted}")
    return _with_path(path, error["msg"])


def _describe_union(union_path: tuple[str | int, ...], group: list[_Located]) -> list[str]:
    # A branch whose errors lie deeper than the union itself is the one the value was shaped
    # like (an object that failed inside): its errors are the useful ones.
    deeper = [item for item in group if len(item.path) > len(union_path)]
    if deeper:
        return [_describe_one(item) for item in deeper]
    value = group[0].error["input"]
    choices: list[str] = []
    kinds: list[str] = []
    for item in group:
        error = item.error
        if error["type"] == "literal_error":
            choices.extend(_QUOTED.findall(str((error.get("ctx") or {}).get("expected", ""))))
        elif error["type"] in _EXPECTED:
            kinds.append(_EXPECTED[error["type"]])
    if not choices and not kinds:
        return [_describe_one(item) for item in group]
    return [_with_path(union_path, _bad_choice(value, choices, kinds))]


def _bad_choice(value: object, choices: list[str], kinds: list[str]) -> str:
    wanted = _expected_phrase(choices, kinds)
    if isinstance(value, str) and choices:
        shown = value if len(value) <= MAX_QUOTED_CHARS else value[:MAX_QUOTED_CHARS] + "…"
        return f"unknown variant `{shown}`, expected {wanted}"
    return f"invalid type: {_unexpected(value)}, expected {wanted}"


def _expected_phrase(choices: list[str], kinds: list[str]) -> str:
    quoted = [f"`{choice}`" for choice in dict.fromkeys(choices)]
    parts: list[str] = []
    if len(quoted) == 1:
        parts.append(quoted[0])
    elif len(quoted) == 2:
        parts.append(f"{quoted[0]} or {quoted[1]}")
    elif quoted:
        parts.append("one of " + ", ".join(quoted))
    parts.extend(dict.fromkeys(kinds))
    return " or ".join(parts) if parts else "a valid value"


def _unexpected(value: object) -> str:
    """How serde names an unexpected JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        if len(value) > MAX_QUOTED_CHARS:
            return f'string "{value[:MAX_QUOTED_CHARS]}…" ({len(value)} characters)'
        return f'string "{value}"'
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


_EXPECTED: Mapping[str, str] = {
    "string_type": "a string",
    "bool_type": "a boolean",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}

_BOUNDS: Mapping[str, tuple[str, str]] = {
    "greater_than_equal": ("ge", "a value >= {}"),
    "greater_than": ("gt", "a value > {}"),
    "less_than_equal": ("le", "a value <= {}"),
    "less_than": ("lt", "a value < {}"),
}

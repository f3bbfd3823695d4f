"""Load a scenario TOML file (or a built-in one), apply ``--set`` overrides and validate it.

Every problem becomes ONE :class:`~touchdown.errors.InputError` line that says where and what::

    scen.toml:12: fsw.navigation.gating: input should be 'latch', 'robust' or 'none', got 'latch2'
    scen.toml:20: sensors.altimeter.max_rnage_m: unknown field (did you mean 'max_range_m'?); allowed: ...
    scen.toml: vehicle: missing section
    scen.toml:7: TOML syntax error: Cannot overwrite a value (column 1: 'lat_deg = 3.0')
    --set fsw.navigation.gating=latch2: input should be 'latch', 'robust' or 'none', got 'latch2'

``tomllib`` keeps no line numbers, so :class:`_Locator` scans the text once for the line of every table
header, array-of-tables entry, key, inline-table key and array element. Errors report the line of the
offending key, else of the nearest enclosing table found in the text, else no line.

Built-in scenarios are the ``library/<name>.toml`` files shipped inside this package.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import math
import re
import tomllib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from touchdown.errors import InputError
from touchdown.scenario.schema import Scenario

PathPart = str | int
FieldPath = tuple[PathPart, ...]

__all__ = ["LoadedScenario", "builtin_scenarios", "load_scenario", "load_scenario_text", "value_problem"]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from (enough to re-load it exactly)."""

    scenario: Scenario
    name: str  # [scenario].name
    source: str  # the file path as given, or "builtin:<name>"
    text: str  # the TOML text as read, before overrides
    overrides: tuple[str, ...]  # the --set items, in the order applied


# --------------------------------------------------------------------------------------------------
# built-in library


def _library() -> Traversable:
    return resources.files("touchdown.scenario").joinpath("library")


def _builtin_files() -> dict[str, Traversable]:
    lib = _library()
    if not lib.is_dir():
        return {}
    return {
        f.name.removesuffix(".toml"): f for f in lib.iterdir() if f.is_file() and f.name.endswith(".toml")
    }


def builtin_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of each built-in scenario, sorted by name."""
    out = []
    for name, f in sorted(_builtin_files().items()):
        source = f"builtin:{name}"
        data = _parse(_decode(f.read_bytes(), source), source)
        meta = data.get("scenario")
        desc = meta.get("description", "") if isinstance(meta, dict) else ""
        out.append((name, " ".join(str(desc).split())))
    return out


# --------------------------------------------------------------------------------------------------
# loading


def load_scenario(source: str | Path, overrides: Sequence[str] = ()) -> LoadedScenario:
    """Read, override and validate a scenario; every problem raises a one-line :class:`InputError`.

    ``source``: a path to a TOML file, or the name of a built-in scenario (:func:`builtin_scenarios`).
    ``overrides``: ``dotted.path=value`` items (the CLI's ``--set``), applied in order before validation;
    ``value`` is a TOML value, or a bare string when it does not parse as one.
    """
    label, raw = _read(source)
    return load_scenario_text(_decode(raw, label), label, overrides)


def load_scenario_text(text: str, label: str, overrides: Sequence[str] = ()) -> LoadedScenario:
    """:func:`load_scenario` of a scenario's TOML ``text`` (``label`` names it in messages): how a
    campaign's workers and ``--resume`` re-load the exact text its manifest keeps."""
    if isinstance(overrides, str):  # one item, not its characters
        overrides = (overrides,)
    data = _parse(text, label)
    original = _parse(text, label)  # untouched copy: tells which structure the overrides created
    applied = tuple(_apply_override(data, item) for item in overrides)
    where = _Where(label, text, original, applied)
    scenario, problem = _validate(data)
    if problem is not None:
        raise InputError(where.line(*problem))
    for i, d in enumerate(scenario.campaign.dispersions):
        problem = _check_dispersion(data, scenario, d)
        if problem is not None:
            raise InputError(where.line(("campaign", "dispersions", i, "field"), problem))
    return LoadedScenario(scenario, scenario.scenario.name, label, text, tuple(overrides))


def _validate(data: dict[str, Any]) -> tuple[Scenario, None] | tuple[None, tuple[FieldPath, str]]:
    """The scenario, or (path, message) of its first problem (schema, then each fault's kind rules)."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        return None, _describe_first(exc)
    for i, fault in enumerate(scenario.faults):
        try:
            fault.to_fault()
        except (InputError, TypeError, ValueError) as exc:
            return None, (("faults", i), str(exc))
    return scenario, None


def override_item(data: Any, field: str, value: float) -> str:
    """``field=value`` for ``--set``: an integral value stays an integer where the field holds one."""
    node = data
    for part in field.split("."):
        if isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            node = None
            break
    v = float(value)
    if isinstance(node, int) and not isinstance(node, bool) and v.is_integer():
        return f"{field}={int(v)}"
    return f"{field}={v!r}"


def value_problem(data: dict[str, Any], field: str, value: float) -> str | None:
    """Why ``field = value`` does not make a valid scenario of ``data`` (parsed TOML), or None."""
    trial = copy.deepcopy(data)
    try:
        _apply_override(trial, override_item(data, field, value))
    except InputError as exc:
        return str(exc).split(": ", 1)[-1]
    _, problem = _validate(trial)
    if problem is None:
        return None
    path, message = problem
    shown = _show_path(path)
    return f"{field} = {value:g}: {message}" if shown == field else f"{field} = {value:g}: {shown}: {message}"


def _check_dispersion(data: dict[str, Any], scenario: Scenario, d: Any) -> str | None:
    """Why a ``[[campaign.dispersions]]`` entry cannot apply to this scenario, or None."""
    from touchdown.campaign.dispersions import presence_index, support

    try:
        fault = presence_index(d)
        if fault is not None:
            n = len(scenario.faults)
            return None if fault < n else f"'{d.field}': the scenario has {n} fault(s) (faults.0 …)"
        values = support(d)
    except InputError as exc:
        return str(exc)
    if d.field.split(".", 1)[0] == "campaign":
        return f"'{d.field}': a campaign cannot disperse its own settings"
    for v in values:
        problem = value_problem(data, d.field, v)
        if problem is not None:
            return problem
    return None


def _read(source: str | Path) -> tuple[str, bytes]:
    """(label for messages, bytes) of a scenario file or built-in."""
    path = Path(source)
    label = str(source)
    if path.is_file():
        try:
            return label, path.read_bytes()
        except OSError as exc:
            raise InputError(f"{label}: cannot read: {exc.strerror or exc}") from None
    if path.is_dir():
        raise InputError(f"{label}: is a directory, not a scenario file")
    builtins = _builtin_files()
    name = label.removeprefix("builtin:")
    if name in builtins:
        return f"builtin:{name}", builtins[name].read_bytes()
    known = ", ".join(sorted(builtins)) or "none"
    raise InputError(f"{label}: no such scenario file or built-in scenario; built-ins: {known}")


def _decode(raw: bytes, label: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{label}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the scenario as UTF-8"
        ) from None


_TOML_POS = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


def _parse(text: str, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        if m is None:
            raise InputError(f"{label}: TOML syntax error: {msg}") from None
        msg = msg[: m.start()]
        lines = text.splitlines()
        if m.group(1) is None:  # at end of document
            return _raise_syntax(label, len(lines) or 1, f"{msg} (at the end of the file)")
        lineno, col = int(m.group(1)), int(m.group(2))
        src = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
        if len(src) > 60:
            src = src[:57] + "..."
        return _raise_syntax(label, lineno, f"{msg} (column {col}: {src!r})" if src else msg)


def _raise_syntax(label: str, line: int, msg: str) -> typing.NoReturn:
    raise InputError(f"{label}:{line}: TOML syntax error: {msg}")


# --------------------------------------------------------------------------------------------------
# overrides


def _override_value(text: str) -> Any:
    try:
        parsed = tomllib.loads("v = " + text)
    except tomllib.TOMLDecodeError:
        return text.strip()
    return parsed["v"] if len(parsed) == 1 else text.strip()


def _apply_override(data: dict[str, Any], item: str) -> tuple[str, FieldPath]:
    """Apply one ``dotted.path=value`` to ``data`` in place; return (item, normalised path)."""
    if "=" not in item:
        raise InputError(f"--set {item}: expected dotted.path=value (e.g. fsw.navigation.gating=robust)")
    key, _, text = item.partition("=")
    key = key.strip()
    if not key:
        raise InputError(f"--set {item}: empty path before '='")
    parts = [p.strip() for p in key.split(".")]
    if any(not p for p in parts):
        raise InputError(f"--set {item}: empty key in path '{key}'")
    value = _override_value(text)
    node: Any = data
    done: list[PathPart] = []
    for k, part in enumerate(parts):
        last = k == len(parts) - 1
        here = _show_path(tuple(done)) or "the scenario"
        if isinstance(node, list):
            if not re.fullmatch(r"-?\d+", part):
                raise InputError(f"--set {item}: {here} is an array; '{part}' is not an index")
            idx = int(part)
            if not 0 <= idx < len(node):
                raise InputError(
                    f"--set {item}: index {idx} is out of range ({here} has {len(node)} item(s))"
                )
            done.append(idx)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            done.append(part)
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise InputError(f"--set {item}: cannot set '{part}': {here} is a value, not a table")
    return item, tuple(done)


# --------------------------------------------------------------------------------------------------
# where: file line or --set item


def _show_path(path: FieldPath) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _exists(data: Any, path: FieldPath) -> int:
    """Length of the longest prefix of ``path`` present in ``data``."""
    node = data
    for n, p in enumerate(path):
        in_table = isinstance(node, dict) and isinstance(p, str) and p in node
        in_array = isinstance(node, list) and isinstance(p, int) and 0 <= p < len(node)
        if not (in_table or in_array):
            return n
        node = node[p]
    return len(path)


class _Where:
    """Turns a field path and a message into the one error line."""

    def __init__(
        self, label: str, text: str, original: dict[str, Any], overrides: tuple[tuple[str, FieldPath], ...]
    ) -> None:
        self.label = label
        self.text = text
        self.original = original
        self.overrides = overrides
        self._lines: dict[FieldPath, int] | None = None

    def line(self, path: FieldPath, message: str) -> str:
        shown = _show_path(path)
        item = self._override(path)
        if item is not None:
            item_text, opath = item
            return f"--set {item_text}: " + (message if opath == path else f"{shown}: {message}")
        if self._lines is None:
            self._lines = _Locator(self.text).lines
        for k in range(len(path), 0, -1):
            if path[:k] in self._lines:
                return f"{self.label}:{self._lines[path[:k]]}: {shown}: {message}"
        return f"{self.label}: {shown}: {message}"

    def _override(self, path: FieldPath) -> tuple[str, FieldPath] | None:
        """The last override the error at ``path`` lies in (or in structure it created), if any."""
        in_file = _exists(self.original, path)
        for item, opath in reversed(self.overrides):
            common = 0
            while common < min(len(path), len(opath)) and path[common] == opath[common]:
                common += 1
            if common == len(opath) or common == len(path) or common > in_file:
                return item, opath
        return None


class _Locator:
    """Line of every key path in a (syntactically valid) TOML text: headers, keys, inline keys, elements.

    ``lines[("faults", 1, "value")]`` is the line of ``value =`` in the second ``[[faults]]``. Only tables
    that the text declares get a line (``[fsw.navigation]`` gives none to ``fsw``). Best effort: it stops
    quietly at anything it does not understand.
    """

    _BARE = re.compile(r"[A-Za-z0-9_-]+")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[FieldPath, int] = {}
        self._aot: dict[FieldPath, int] = {}  # array-of-tables path → entries so far
        with contextlib.suppress(IndexError, ValueError):  # a partial map is still useful
            self._document()

    # scanning primitives
    def _adv(self, n: int = 1) -> None:
        self.line += self.text.count("\n", self.pos, self.pos + n)
        self.pos += n

    def _at(self, s: str) -> bool:
        return self.text.startswith(s, self.pos)

    def _skip(self, newlines: bool) -> None:
        ws = " \t\r\n" if newlines else " \t"
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in ws:
                self._adv()
            elif c == "#" and newlines:
                end = self.text.find("\n", self.pos)
                self._adv((len(self.text) if end < 0 else end) - self.pos)
            else:
                return

    def _expect(self, s: str) -> None:
        if not self._at(s):
            raise ValueError(s)
        self._adv(len(s))

    def _mark(self, path: FieldPath) -> None:
        self.lines.setdefault(path, self.line)

    def _key(self) -> FieldPath:
        parts: list[str] = []
        while True:
            self._skip(newlines=False)
            if self._at('"') or self._at("'"):
                parts.append(self._string())
            else:
                m = self._BARE.match(self.text, self.pos)
                if m is None:
                    raise ValueError("key")
                parts.append(m.group())
                self._adv(m.end() - self.pos)
            self._skip(newlines=False)
            if not self._at("."):
                return tuple(parts)
            self._adv()

    def _string(self) -> str:
        """Skip a string of any kind; return its raw content."""
        for q in ('"""', "'''", '"', "'"):
            if self._at(q):
                break
        start = self.pos + len(q)
        i = start
        while True:
            j = self.text.index(q, i)
            if q[0] == '"' and _escaped(self.text, j):
                i = j + 1
                continue
            break
        while len(q) == 3 and self.text.startswith(q[0], j + 3):  # """a"""" ends with a quote inside
            j += 1
        self._adv(j + len(q) - self.pos)
        return self.text[start:j]

    # grammar
    def _document(self) -> None:
        prefix: FieldPath = ()
        while True:
            self._skip(newlines=True)
            if self.pos >= len(self.text):
                return
            if self._at("[["):
                self._adv(2)
                path = self._resolve(self._key())
                self._expect("]]")
                n = self._aot.get(path, 0)
                self._aot[path] = n + 1
                self._mark(path)
                prefix = (*path, n)
                self._mark(prefix)
            elif self._at("["):
                self._adv()
                prefix = self._resolve(self._key())
                self._expect("]")
                self._mark(prefix)
            else:
                self._keyval(prefix)

    def _resolve(self, keys: FieldPath) -> FieldPath:
        """Header keys with the current index of each enclosing array of tables inserted."""
        out: FieldPath = ()
        for k, key in enumerate(keys):
            out = (*out, key)
            if k < len(keys) - 1 and out in self._aot:
                out = (*out, self._aot[out] - 1)
        return out

    def _keyval(self, prefix: FieldPath) -> None:
        keys = self._key()
        for k in range(1, len(keys) + 1):
            self._mark((*prefix, *keys[:k]))
        self._skip(newlines=False)
        self._expect("=")
        self._skip(newlines=False)
        self._value((*prefix, *keys))

    def _value(self, path: FieldPath) -> None:
        if self._at('"') or self._at("'"):
            self._string()
        elif self._at("["):
            self._adv()
            i = 0
            while True:
                self._skip(newlines=True)
                if self._at("]"):
                    self._adv()
                    return
                self._mark((*path, i))
                self._value((*path, i))
                self._skip(newlines=True)
                if self._at(","):
                    self._adv()
                    i += 1
        elif self._at("{"):
            self._adv()
            while True:
                self._skip(newlines=True)
                if self._at("}"):
                    self._adv()
                    return
                self._keyval(path)
                self._skip(newlines=True)
                if self._at(","):
                    self._adv()
        else:
            m = re.compile(r"[^,\]}#\r\n]+").match(self.text, self.pos)
            if m is None:
                raise ValueError("value")
            self._adv(m.end() - self.pos)


def _escaped(text: str, j: int) -> bool:
    """Whether the character at ``j`` is preceded by an odd number of backslashes."""
    n = 0
    while j - n - 1 >= 0 and text[j - n - 1] == "\\":
        n += 1
    return n % 2 == 1


# --------------------------------------------------------------------------------------------------
# pydantic errors → (field path, message)


def _unwrap(tp: Any) -> Any:
    """Strip Annotated[...] and Optional[...]."""
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _members(tp: Any) -> list[Any]:
    return [_unwrap(a) for a in get_args(tp) if a is not type(None)]


def _tags(model: Any) -> dict[str, tuple[Any, ...]]:
    """Literal-valued fields of a model (its discriminator candidates) and their values."""
    out = {}
    for name, f in model.model_fields.items():
        ann = _unwrap(f.annotation)
        if get_origin(ann) is Literal:
            out[name] = get_args(ann)
    return out


def _is_table(tp: Any) -> bool:
    tp = _unwrap(tp)
    if _is_model(tp):
        return True
    return get_origin(tp) in (Union, types.UnionType) and all(_is_model(m) for m in _members(tp))


@dataclass
class _Clean:
    path: FieldPath  # the field path as the user wrote it (union labels and tags removed)
    model: Any  # the model in which the last key was looked up (None if none)
    tp: Any  # the type at the end of the path
    union_at: int | None  # len(path) where a plain (non-discriminated) union's member label was skipped
    container: Any  # the type holding the last path element


def _clean(loc: tuple[PathPart, ...]) -> _Clean:
    path: list[PathPart] = []
    tp: Any = Scenario
    model: Any = None
    union_at: int | None = None
    container: Any = None
    for el in loc:
        tp = _unwrap(tp)
        if not (get_origin(tp) in (Union, types.UnionType) and isinstance(el, str)):
            container = tp
        origin = get_origin(tp)
        if _is_model(tp) and isinstance(el, str):
            path.append(el)
            model = tp
            f = tp.model_fields.get(el)
            tp = f.annotation if f is not None else Any
        elif origin in (list, tuple) and isinstance(el, int):
            path.append(el)
            args = get_args(tp)
            if origin is list:
                tp = args[0] if args else Any
            else:
                homogeneous = len(args) == 2 and args[1] is Ellipsis
                tp = args[0] if homogeneous else (args[el] if el < len(args) else Any)
        elif origin in (Union, types.UnionType) and isinstance(el, str):
            members = _members(tp)
            tagged = [m for m in members if _is_model(m) and any(el in v for v in _tags(m).values())]
            if tagged:  # discriminated union: el is the tag
                tp = tagged[0]
            else:  # plain union: el is pydantic's label of the member ("float", "list[float]", ...)
                if union_at is None:
                    union_at = len(path)
                lists = [m for m in members if get_origin(m) is list]
                tp = lists[0] if el.startswith("list") and lists else Any
        else:
            path.append(el)
            tp = Any
    return _Clean(tuple(path), model, tp, union_at, container)


def _num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list) and any(isinstance(x, dict) for x in v):
        return "an array of tables"
    s = repr(v)
    return s if len(s) <= 50 else s[:47] + "..."


def _or(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


_BE = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "an array",
    "tuple_type": "an array",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "dict_type": "a table",
    "finite_number": "a finite number",
}
_CMP = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}
_CMP_KEY = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def _complement(err: dict[str, Any]) -> str | None:
    """What the value must be (``"> 0"``, ``"a number"``, ``"'a' or 'b'"``), if the error says so."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _BE:
        return _BE[kind]
    if kind in _CMP:
        return f"{_CMP[kind]} {_num(ctx[_CMP_KEY[kind]])}"
    if kind == "literal_error":
        return str(ctx.get("expected", ""))
    return None


def _message(err: dict[str, Any], c: _Clean) -> tuple[FieldPath, str]:
    """(path, human message) of one pydantic error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    got = f", got {_show(value)}"
    path = c.path
    if kind == "missing":
        if path and isinstance(path[-1], int):  # a fixed-length array (a vector) too short
            n = len(get_args(_unwrap(c.container)))
            return path[:-1], f"must have {n} items, got {path[-1]}"
        return path, "missing section" if _is_table(c.tp) else "missing field"
    if kind == "extra_forbidden":
        allowed = list(c.model.model_fields) if c.model is not None else []
        name = str(path[-1]) if path else ""
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return path, f"unknown field{hint}; allowed: {', '.join(allowed)}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        disc = str(ctx.get("discriminator", "")).strip("'")
        members = _members(_unwrap(c.tp)) if get_origin(_unwrap(c.tp)) in (Union, types.UnionType) else []
        tags = [repr(t) for m in members if _is_model(m) for t in _tags(m).get(disc, ())]
        if kind == "union_tag_not_found":
            return (*path, disc), f"missing field (one of {_or(tags)})" if tags else "missing field"
        return (*path, disc), f"input should be {_or(tags)}, got {ctx.get('tag')!r}"
    if kind == "literal_error":
        return path, f"input should be {ctx.get('expected', '')}{got}"
    if kind == "value_error":
        return path, str(err["msg"]).removeprefix("Value error, ")
    if kind in ("too_short", "too_long"):
        what = "at least" if kind == "too_short" else "at most"
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        return path, f"must have {what} {n} item(s), got {ctx.get('actual_length', '?')}"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return path, "must not be empty"
    be = _complement(err)
    if be is not None:
        return path, f"must be {be}{got}"
    msg = str(err["msg"])
    return path, (msg[:1].lower() + msg[1:]) + ("" if isinstance(value, dict | list) else got)


def _describe_first(exc: ValidationError) -> tuple[FieldPath, str]:
    """The first error as (path, message); a plain union's errors (one per member) become one message."""
    errors = exc.errors()
    first = errors[0]
    c0 = _clean(first["loc"])
    if first["type"] == "missing" and c0.path and isinstance(c0.path[-1], str):
        for err in errors:  # a missing key next to an unknown one spelt like it: report the typo
            c = _clean(err["loc"])
            if (
                err["type"] == "extra_forbidden"
                and c.path[:-1] == c0.path[:-1]
                and difflib.get_close_matches(str(c.path[-1]), [c0.path[-1]], n=1, cutoff=0.8)
            ):
                return _message(err, c)
    if c0.union_at is None:
        return _message(first, c0)
    point = c0.path[: c0.union_at]
    group = []
    for err in errors:
        c = _clean(err["loc"])
        if c.union_at == c0.union_at and c.path[: c0.union_at] == point:
            group.append((err, c))
    deepest = max(len(c.path) for _, c in group)
    group = [(e, c) for e, c in group if len(c.path) == deepest]
    if len(group) == 1:
        return _message(*group[0])
    bes = [_complement(e) for e, _ in group]
    if any(b is None for b in bes):
        return _message(first, c0)
    alternatives = list(dict.fromkeys(b for b in bes if b is not None))
    value = group[0][0].get("input")
    if isinstance(value, float) and math.isinf(value) and "'inf'" in alternatives:  # duration_s = inf
        alternatives[alternatives.index("'inf'")] = "'inf' (a string, in quotes)"
    return group[0][1].path, f"must be {_or(alternatives)}, got {_show(value)}"

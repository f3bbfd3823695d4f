"""A minimal reader for PDS3 labels (ODL): enough for the LOLA gridded products and their kin.

Supported: ``KEY = VALUE`` statements; quoted strings spanning lines (whitespace runs collapse to one
space); ``'literals'``; ``{…}`` sets and ``(…)`` sequences, nested; ``<unit>`` suffixes (kept as a
:class:`Quantity`); ``/* comments */``; nested ``OBJECT``/``END_OBJECT`` and ``GROUP``/``END_GROUP``;
pointer keys such as ``^IMAGE = "FILE"``, ``("FILE", record)`` or ``1025 <BYTES>``; the closing ``END``.

The result is a nested ``dict``: each OBJECT or GROUP becomes a dict stored under its name (a list of
dicts if the name repeats in one scope); sets become lists, sequences tuples; numbers become int or
float; unquoted symbols and dates stay strings. Pointer keys keep their caret (``label["^IMAGE"]``).
A malformed label raises :class:`~touchdown.errors.InputError` naming the file and the line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from touchdown.errors import InputError

__all__ = ["Quantity", "find_key", "find_object", "parse_label", "parse_label_text", "unit_value"]

#: Labels are short; an attached label (at the head of an image file) is read up to this many bytes.
MAX_LABEL_BYTES = 1 << 20


class Quantity(NamedTuple):
    """A value with its ODL unit, e.g. ``MAP_RESOLUTION = 4 <pix/deg>`` → ``Quantity(4, "pix/deg")``."""

    value: Any
    unit: str


class _Tok(NamedTuple):
    kind: str  # "word", "string", "literal", "unit", "punct"
    text: str
    line: int
    end_line: int


_TOKEN_RE = re.compile(
    r"""
    (?P<nl>\n)
  | (?P<ws>[ \t\r\f\v]+)
  | (?P<comment>/\*.*?\*/)
  | (?P<string>"[^"]*")
  | (?P<literal>'[^'\n]*')
  | (?P<unit><[^<>\n]*>)
  | (?P<punct>[=(){},])
  | (?P<word>(?:[^\s=(){},"'<>/]|/(?!\*))+)
    """,
    re.VERBOSE | re.DOTALL,
)
_KEY_RE = re.compile(r"^\^?[A-Za-z][A-Za-z0-9_]*(?::[A-Za-z][A-Za-z0-9_]*)?$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_BASED_RE = re.compile(r"^([+-]?)(\d+)#([0-9A-Fa-f]+)#$")
_REAL_RE = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$")
_BLOCKS = {"OBJECT": "END_OBJECT", "GROUP": "END_GROUP"}


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 0
        self.line = 1
        self.peeked: _Tok | None = None
        self.last_line = 1  # end line of the most recently consumed token

    def fail(self, line: int, message: str) -> InputError:
        return InputError(f"malformed PDS3 label: {message}", where=f"{self.source} line {line}")

    # -- lexer -----------------------------------------------------------------------------------------
    def _lex(self) -> _Tok | None:
        text = self.text
        while self.pos < len(text):
            m = _TOKEN_RE.match(text, self.pos)
            if m is None:
                ch = text[self.pos]
                if text.startswith("/*", self.pos):
                    raise self.fail(self.line, "comment '/*' is never closed")
                if ch == '"':
                    raise self.fail(self.line, 'quoted string is never closed (missing ")')
                raise self.fail(self.line, f"unexpected character {ch!r}")
            kind = m.lastgroup
            start_line = self.line
            self.line += m.group().count("\n")
            self.pos = m.end()
            if kind in ("nl", "ws", "comment"):
                continue
            assert kind is not None
            return _Tok(kind, m.group(), start_line, self.line)
        return None

    def peek(self) -> _Tok | None:
        if self.peeked is None:
            self.peeked = self._lex()
        return self.peeked

    def next(self) -> _Tok | None:
        tok = self.peek()
        self.peeked = None
        if tok is not None:
            self.last_line = tok.end_line
        return tok

    # -- grammar ---------------------------------------------------------------------------------------
    def parse(self) -> dict[str, Any]:
        root: dict[str, Any] = {}
        stack: list[tuple[str, str, dict[str, Any], int]] = []  # (block kind, name, dict, line opened)
        scope = root
        while True:
            tok = self.next()
            if tok is None:
                if stack:
                    kind, name, _, line = stack[-1]
                    raise self.fail(line, f"{kind} = {name} is never closed (no END_{kind})")
                return root  # a missing END is tolerated when every block is closed
            if tok.kind != "word" or not _KEY_RE.match(tok.text):
                raise self.fail(tok.line, f"expected a keyword, found {tok.text!r}")
            key = tok.text.upper()
            if key == "END":
                if stack:
                    kind, name, _, line = stack[-1]
                    raise self.fail(tok.line, f"END reached inside {kind} = {name} opened at line {line}")
                return root
            eq = self.peek()
            if key in ("END_OBJECT", "END_GROUP") and (eq is None or eq.text != "=" or eq.line != tok.line):
                value: Any = None  # bare END_OBJECT
            else:
                if eq is None or eq.text != "=":
                    found = "end of file" if eq is None else repr(eq.text)
                    raise self.fail(tok.line, f"expected '=' after {key}, found {found}")
                self.next()
                first = self.peek()
                if first is None or first.text in ("=", ")", "}", ","):
                    raise self.fail(tok.line, f"{key} has no value")
                value, last_line = self.value()
                after = self.peek()
                if after is not None and after.line == last_line:
                    if after.text == "=" and first.line > tok.line:
                        raise self.fail(tok.line, f"{key} has no value")
                    raise self.fail(after.line, f"unexpected {after.text!r} after the value of {key}")
            if key in _BLOCKS:
                name = str(value).upper()
                block: dict[str, Any] = {}
                _store(scope, name, block)
                stack.append((key, name, scope, tok.line))
                scope = block
            elif key in ("END_OBJECT", "END_GROUP"):
                kind = key[4:]
                if not stack or stack[-1][0] != kind:
                    raise self.fail(tok.line, f"{key} without a matching {kind}")
                if value is not None and str(value).upper() != stack[-1][1]:
                    raise self.fail(tok.line, f"{key} = {value} closes {kind} = {stack[-1][1]}")
                scope = stack.pop()[2]
            else:
                if key in scope:
                    raise self.fail(tok.line, f"duplicate keyword {key}")
                scope[key] = value

    def value(self) -> tuple[Any, int]:
        """One value (scalar with optional unit, set or sequence); returns it and its last line."""
        tok = self.next()
        assert tok is not None
        if tok.text in ("(", "{"):
            close = ")" if tok.text == "(" else "}"
            items: list[Any] = []
            while True:
                nxt = self.peek()
                if nxt is None:
                    raise self.fail(tok.line, f"{tok.text!r} is never closed")
                if nxt.text == close:
                    self.next()
                    break
                if items:
                    if nxt.text != ",":
                        raise self.fail(nxt.line, f"expected ',' or {close!r}, found {nxt.text!r}")
                    self.next()
                    nxt = self.peek()
                if nxt is None or (nxt.kind == "punct" and nxt.text not in ("(", "{")):
                    where = tok.line if nxt is None else nxt.line
                    raise self.fail(where, f"missing value in {tok.text}…{close}")
                item, _ = self.value()
                items.append(item)
            return (tuple(items) if close == ")" else items), self.last_line
        if tok.kind == "punct" or tok.kind == "unit":
            raise self.fail(tok.line, f"unexpected {tok.text!r}")
        scalar = _scalar(tok)
        last_line = tok.end_line
        unit = self.peek()
        if unit is not None and unit.kind == "unit":
            self.next()
            return Quantity(scalar, unit.text[1:-1].strip()), unit.end_line
        return scalar, last_line


def _scalar(tok: _Tok) -> Any:
    if tok.kind == "string":
        return " ".join(tok.text[1:-1].split())
    if tok.kind == "literal":
        return tok.text[1:-1]
    text = tok.text
    if _INT_RE.match(text):
        return int(text)
    m = _BASED_RE.match(text)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return sign * int(m.group(3), int(m.group(2)))
    if _REAL_RE.match(text):
        return float(text)
    return text


def _store(scope: dict[str, Any], name: str, block: dict[str, Any]) -> None:
    if name not in scope:
        scope[name] = block
    elif isinstance(scope[name], list):
        scope[name].append(block)
    else:
        scope[name] = [scope[name], block]


def parse_label_text(text: str, source: str = "<label>") -> dict[str, Any]:
    """Parse PDS3 label text; ``source`` names the file in error messages."""
    return _Parser(text, source).parse()


def parse_label(path: str | Path) -> dict[str, Any]:
    """Parse the PDS3 label in ``path`` (a detached ``.LBL`` or an image with an attached label)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_LABEL_BYTES)
    except FileNotFoundError:
        raise InputError("PDS3 label not found", where=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read PDS3 label ({exc.strerror or exc})", where=str(path)) from None
    text = raw.decode("latin-1")
    if len(raw) == MAX_LABEL_BYTES:  # attached label: parse only up to the END statement
        m = re.search(r"^[ \t]*END[ \t]*\r?$", text, flags=re.MULTILINE)
        if m is not None:
            text = text[: m.end()]
    return parse_label_text(text, str(path))


def find_object(label: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The first OBJECT/GROUP called ``name`` (depth first), or None."""
    name = name.upper()
    for key, value in label.items():
        blocks = value if isinstance(value, list) else [value]
        for block in blocks:
            if isinstance(block, dict):
                if key == name:
                    return block
                found = find_object(block, name)
                if found is not None:
                    return found
    return None


def find_key(label: dict[str, Any], key: str) -> Any:
    """The value of the first ``key`` found in ``label`` or any nested block (depth first), or None."""
    key = key.upper()
    if key in label and not _is_block(label[key]):
        return label[key]
    for value in label.values():
        for block in value if isinstance(value, list) else [value]:
            if isinstance(block, dict):
                found = find_key(block, key)
                if found is not None:
                    return found
    return None


def unit_value(value: Any) -> Any:
    """The bare value of a :class:`Quantity` (anything else is returned unchanged)."""
    return value.value if isinstance(value, Quantity) else value


def _is_block(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value))

"""The scenario file reference of docs/scenarios.md, generated from the schema so that it cannot drift.

::

    python -m touchdown.scenario.reference            # print the generated tables
    python -m touchdown.scenario.reference --write    # rewrite them in docs/scenarios.md
    python -m touchdown.scenario.reference --check    # exit 1 when docs/scenarios.md is out of date

The walk starts at :class:`~touchdown.scenario.schema.Scenario` and renders one Markdown table per TOML
table (sub-models become their own sections, arrays of tables ``[[…]]``, each variant of a discriminated
union its own section), with one row per field: name, type, unit, default, allowed values, description.

* **unit**: from the field name's suffix (``_m`` → m, ``_mps`` → m/s, …; the project's rule that a field
  names its unit), or :data:`UNIT_OVERRIDES` for the few fields whose name cannot say it.
* **allowed**: the literals of a ``Literal``, the bounds of ``gt``/``ge``/``lt``/``le``, ``min_length``;
  rules between fields (apoapsis ≥ periapsis, …) are in the descriptions.
* **description**: the field's ``Field(description=...)``; for ``[expect]`` (``scenario/expect.py``) the
  short texts of :data:`EXPECT_DESCRIPTIONS`. A field with neither fails
  ``tests/scenario/test_reference_doc.py``.

Only the text between :data:`BEGIN` and :data:`END` in the page is generated; the prose around it is not.
"""

from __future__ import annotations

import argparse
import inspect
import math
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from touchdown.campaign.dispersions import SUFFIX_UNITS as CAMPAIGN_SUFFIX_UNITS
from touchdown.scenario import expect as expect_mod
from touchdown.scenario import schema

PAGE = Path(__file__).resolve().parents[3] / "docs" / "scenarios.md"
REGENERATE = "python -m touchdown.scenario.reference --write"
BEGIN = f"<!-- BEGIN generated reference: `{REGENERATE}` rewrites this part; do not edit it by hand -->"
END = "<!-- END generated reference -->"

# field-name suffix → unit (longest first); the project's names carry their units (ARCHITECTURE rule 5)
# field-name suffix → unit as the page writes it: the campaign's table (dispersion units are checked with
# it), plus the noise densities no dispersion converts; longest suffixes first
SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_m2_per_m", "m²/m"),
    ("_mps_rtsec", "m/s/√s"),
    ("_rad_rtsec", "rad/√s"),
    *((suffix, unit.replace("^2", "²")) for suffix, unit in CAMPAIGN_SUFFIX_UNITS),
)

# (model name, field) → unit, where the name has no suffix but the value has a unit
UNIT_OVERRIDES: dict[tuple[str, str], str] = {
    ("Navigation", "gate_sigma"): "σ",
    ("AltimeterCfg", "noise_fraction"): "fraction of range",
    ("Navigation", "altimeter_sigma_fraction"): "fraction of range",
    ("Navigation", "velocimeter_sigma_fraction"): "fraction of speed",
    ("FaultCfg", "value"): "channel's (see kind)",
    ("FaultCfg", "rate_per_s"): "channel's per s",
    ("InitialDispersion", "sigma"): "m, m/s",
    ("InitialDispersion", "covariance"): "m², m²/s, m²/s²",
    **{("Dispersion", k): "`unit`" for k in ("mean", "sigma", "low", "high", "median", "values")},
}

# [expect] lives in scenario/expect.py, whose fields carry no descriptions: the texts are here
_TOUCHDOWN = "At the first contact (`touchdown fly --json` → `touchdown`): "
_EVENT = "At the event (or `after_s` later): "
EXPECT_DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("Expect", "outcome"): "Allowed outcome class(es): `landed`, `hard_landing`, `tipped_over`, `crashed`, "
    "`in_flight`; a string or an array of them.",
    ("Expect", "touchdown"): "`[expect.touchdown]`: figures of the first contact.",
    ("Expect", "events"): "`[[expect.events]]`: figures of named events.",
    ("TouchdownExpect", "time_s"): _TOUCHDOWN + "flight time.",
    ("TouchdownExpect", "vertical_speed_mps"): _TOUCHDOWN + "sink rate, down positive.",
    ("TouchdownExpect", "horizontal_speed_mps"): _TOUCHDOWN + "surface-relative horizontal speed.",
    ("TouchdownExpect", "impact_speed_mps"): _TOUCHDOWN + "√(vertical² + horizontal²).",
    ("TouchdownExpect", "tilt_deg"): _TOUCHDOWN + "body +z axis from the local vertical.",
    ("TouchdownExpect", "miss_m"): _TOUCHDOWN + "surface distance to the target.",
    ("TouchdownExpect", "propellant_remaining_kg"): _TOUCHDOWN + "propellant left.",
    ("TouchdownExpect", "hover_time_s"): _TOUCHDOWN + "hover that propellant buys at lunar surface gravity, "
    "(vₑ/g) ln((m_dry + m_p)/m_dry).",
    ("EventExpect", "name"): "Event name as in `touchdown fly --json` (`phase:terminal`, `lrf_abandoned`, "
    "`nav_altitude_zero`, `fault:<kind>:<target>`, …; docs/flight.md).",
    ("EventExpect", "occurrence"): "Which occurrence of the event the figures are read at.",
    ("EventExpect", "present"): "`false`: the event must not happen (then no figures, no `after_s`).",
    ("EventExpect", "after_s"): "Read the figures this long after the event, from the recorded trajectory "
    "(linear interpolation); beyond the record: missed.",
    ("EventExpect", "t_s"): _EVENT + "flight time.",
    ("EventExpect", "true_altitude_m"): _EVENT + "true height of the centre of mass above the terrain below.",
    ("EventExpect", "nav_altitude_m"): _EVENT + "the flight software's estimate of that height.",
    ("EventExpect", "altitude_error_m"): _EVENT + "estimate − truth of that height.",
    ("EventExpect", "vertical_speed_mps"): _EVENT + "true surface-relative vertical speed, up positive.",
    ("EventExpect", "horizontal_speed_mps"): _EVENT + "true surface-relative horizontal speed.",
    ("EventExpect", "tilt_deg"): _EVENT + "true angle of the body +z axis from the local vertical.",
    ("EventExpect", "lat_deg"): _EVENT + "true latitude.",
    ("EventExpect", "lon_deg"): _EVENT + "true longitude.",
    ("Figure", "value"): "Expected value; needs `tol` or `rel`.",
    ("Figure", "tol"): "Accepted |measured − value|, in the figure's unit.",
    ("Figure", "rel"): "Accepted |measured − value| as a fraction of |value|.",
    ("Figure", "min"): "Lower bound, in the figure's unit.",
    ("Figure", "max"): "Upper bound, in the figure's unit.",
}
# models written as inline tables wherever they appear (one section, referred to as a type)
INLINE_MODELS: dict[type[BaseModel], str] = {expect_mod.Figure: "figure"}
_MODEL_DOCS: dict[type[BaseModel], str] = {
    expect_mod.TouchdownExpect: "Figures of the first contact; each a figure (inline table, below).",
    expect_mod.EventExpect: "One expectation about an event; the figures are the truth's unless named "
    "`nav_…`.",
}


@dataclass(frozen=True)
class Section:
    """One TOML table of the reference: its heading path(s), model, and whether it is an array of tables."""

    paths: tuple[str, ...]
    model: type[BaseModel]
    array: bool = False
    variant: tuple[str, str] | None = None  # discriminated union: (key, value)


# --------------------------------------------------------------------------------------------------
# types


def _strip(tp: Any) -> tuple[Any, list[Any]]:
    """(type without Annotated, constraint metadata) of ``tp``."""
    meta: list[Any] = []
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp = args[0]
        for m in args[1:]:
            meta.extend(m.metadata if isinstance(m, FieldInfo) else [m])
    return tp, meta


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    if get_origin(tp) in (Union, types.UnionType):
        return get_args(tp)
    return None


def _is_model(tp: Any) -> bool:
    return inspect.isclass(tp) and issubclass(tp, BaseModel)


def _flatten(tp: Any) -> tuple[list[Any], bool, str | None]:
    """Members of a (nested, annotated) union, without None; whether None was one; its discriminator."""
    members: list[Any] = []
    optional = False
    disc: str | None = None
    stack = [tp]
    while stack:
        t = stack.pop(0)
        if get_origin(t) is Annotated:
            for m in get_args(t)[1:]:
                if isinstance(m, FieldInfo) and isinstance(m.discriminator, str):
                    disc = m.discriminator
        bare, _ = _strip(t)
        args = _union_args(bare)
        if args is not None:
            stack[:0] = list(args)
        elif bare is type(None):
            optional = True
        else:
            members.append(t)
    return members, optional, disc


def _options(tp: Any) -> tuple[list[Any], bool]:
    """Non-None members of a union (or [tp]) and whether None is one."""
    members, optional, _ = _flatten(tp)
    return members, optional


def _discriminator(fi: FieldInfo) -> str | None:
    return fi.discriminator if isinstance(fi.discriminator, str) else _flatten(fi.annotation)[2]


def _sub_models(tp: Any) -> tuple[list[type[BaseModel]], bool]:
    """Models a field holds (several: a discriminated union) and whether it is an array of them."""
    members, _ = _options(tp)
    if len(members) == 1 and get_origin(_strip(members[0])[0]) is list:
        (item,) = get_args(_strip(members[0])[0])
        item, _ = _strip(item)
        return ([item], True) if _is_model(item) else ([], False)
    models = [_strip(m)[0] for m in members]
    if models and all(_is_model(m) for m in models):
        return models, False
    return [], False


def _type_name(tp: Any) -> str:
    members, _ = _options(tp)
    if len(members) > 1:
        if all(_is_model(_strip(m)[0]) for m in members):
            return "table"
        return " or ".join(_type_name(m) for m in members)
    tp, _ = _strip(members[0])
    origin = get_origin(tp)
    if origin is Literal:
        return "string"
    if origin is list:
        (item,) = get_args(tp)
        return f"array of {_plural(_type_name(item))}"
    if origin is tuple:
        args = get_args(tp)
        names = {_type_name(a) for a in args}
        return f"array of {len(args)} {_plural(names.pop())}" if len(names) == 1 else "array"
    if tp in INLINE_MODELS:
        return INLINE_MODELS[tp]
    if _is_model(tp):
        return "table"
    return {float: "float", int: "integer", bool: "boolean", str: "string"}.get(tp, str(tp))


def _plural(name: str) -> str:
    if name.startswith("array"):
        return name.replace("array", "arrays", 1)
    return {"float": "floats", "integer": "integers", "string": "strings", "table": "tables"}.get(name, name)


# --------------------------------------------------------------------------------------------------
# cells


def _num(x: float) -> str:
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "−inf"
    return f"{x:g}".replace("-", "−")


def _bounds(meta: list[Any], can_be_inf: bool) -> str:
    lo = hi = None
    lo_closed = hi_closed = True
    finite = False
    for m in meta:
        if isinstance(m, at.Gt):
            lo, lo_closed = m.gt, False
        elif isinstance(m, at.Ge):
            lo, lo_closed = m.ge, True
        elif isinstance(m, at.Lt):
            hi, hi_closed = m.lt, False
        elif isinstance(m, at.Le):
            hi, hi_closed = m.le, True
        elif type(m).__name__ == "AllowInfNan" and not m.allow_inf_nan:
            finite = True
    if lo is not None and hi is not None:
        return f"{'[' if lo_closed else '('}{_num(lo)}, {_num(hi)}{']' if hi_closed else ')'}"
    out = ""
    if lo is not None:
        out = f"{'≥' if lo_closed else '>'} {_num(lo)}"
    elif hi is not None:
        out = f"{'≤' if hi_closed else '<'} {_num(hi)}"
    if out and hi is None and not finite and can_be_inf:
        out += " or inf"
    return out


def _min_len(meta: list[Any]) -> int | None:
    for m in meta:
        if isinstance(m, at.MinLen):
            return m.min_length
    return None


def _allowed_one(tp: Any, field_meta: list[Any] = ()) -> str:
    """Allowed values of a single (non-union) type."""
    tp, meta = _strip(tp)
    meta = [*meta, *field_meta]
    origin = get_origin(tp)
    if origin is Literal:
        return ", ".join(f'`"{v}"`' for v in get_args(tp))
    if origin is list:
        (item,) = get_args(tp)
        inner = _allowed_one(item)
        n = _min_len(meta)
        parts = [f"≥ {n} entr{'y' if n == 1 else 'ies'}"] if n else []
        if inner and not _is_model(_strip(item)[0]):
            parts.append(f"each {inner}")
        return ", ".join(parts)
    if origin is tuple:
        inner = {_allowed_one(a) for a in get_args(tp)}
        return f"each {inner.pop()}" if len(inner) == 1 and "" not in inner else ""
    if tp is str:
        return "non-empty" if _min_len(meta) else ""
    if tp in (float, int):
        return _bounds(meta, tp is float)
    return ""


def _allowed(fi: FieldInfo) -> str:
    members, _ = _options(fi.annotation)
    if len(members) > 1 and all(_is_model(_strip(m)[0]) for m in members):
        key = _discriminator(fi)
        return ", ".join(f'`{key} = "{_discriminator_value(_strip(m)[0], key)}"`' for m in members)
    parts = [_allowed_one(m, list(fi.metadata)) for m in members]
    return ", or ".join(p for p in parts if p)


def _discriminator_value(model: type[BaseModel], key: str | None) -> str:
    (value,) = get_args(_strip(model.model_fields[key].annotation)[0])  # type: ignore[index]
    return value


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "inf" if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, BaseModel):
        given = [k for k in type(v).model_fields if k in v.model_fields_set]
        return "{ " + ", ".join(f"{k} = {_toml(getattr(v, k))}" for k in given) + " }"
    return repr(v)


def _default(fi: FieldInfo) -> str:
    if fi.is_required():
        return "**required**"
    value = fi.default_factory() if fi.default_factory is not None else fi.default  # type: ignore[call-arg]
    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, BaseModel) and not value.model_fields_set:
        return "its defaults"
    return f"`{_toml(value)}`"


def unit(model: type[BaseModel], name: str) -> str:
    """The unit of field ``name`` of ``model``: an override, its name's suffix, or '—'."""
    if (model.__name__, name) in UNIT_OVERRIDES:
        return UNIT_OVERRIDES[(model.__name__, name)]
    for suffix, u in SUFFIX_UNITS:
        if name.endswith(suffix):
            return u
    return "—"


def description(model: type[BaseModel], name: str) -> str:
    """The field's description: its ``Field(description=...)``, else :data:`EXPECT_DESCRIPTIONS`, else ''."""
    text = model.model_fields[name].description or EXPECT_DESCRIPTIONS.get((model.__name__, name), "")
    return " ".join(text.split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# --------------------------------------------------------------------------------------------------
# the walk


def sections(root: type[BaseModel] = schema.Scenario) -> list[Section]:
    """Every table under ``root``, depth-first in field order; a model met at several paths (the guidance
    laws of each phase) is one section naming them all."""
    found: dict[tuple[type[BaseModel], tuple[str, str] | None], list[Any]] = {}
    order: list[tuple[type[BaseModel], tuple[str, str] | None]] = []

    def visit(model: type[BaseModel], path: str, array: bool, variant: tuple[str, str] | None) -> None:
        key = (model, variant)
        if key in found:
            found[key][0].append(path)
            return
        found[key] = [[path], array]
        order.append(key)
        for name, fi in model.model_fields.items():
            models, is_array = _sub_models(fi.annotation)
            sub = f"{path}.{name}" if path else name
            for m in models:
                if m in INLINE_MODELS:
                    if (m, None) not in found:
                        found[(m, None)] = [[INLINE_MODELS[m]], False]
                        order.append((m, None))
                    continue
                key = _discriminator(fi)
                var = (key, _discriminator_value(m, key)) if len(models) > 1 else None
                visit(m, sub, is_array, var)

    visit(root, "", False, None)
    return [Section(tuple(found[k][0]), k[0], found[k][1], k[1]) for k in order]


def _heading(s: Section) -> str:
    if s.model in INLINE_MODELS:
        return f"{INLINE_MODELS[s.model]} (an inline table, e.g. `{{ value = 2000.0, rel = 0.15 }}`)"
    if s.paths == ("",):
        return "the file: its tables"
    if len(s.paths) > 1:
        parent = s.paths[0].rsplit(".", 1)[0]
        path = f"{parent}.<{'|'.join(p.rsplit('.', 1)[1] for p in s.paths)}>"
    else:
        path = s.paths[0]
    text = f"`[[{path}]]`" if s.array else f"`[{path}]`"
    if s.variant is not None:
        text += f' with `{s.variant[0]} = "{s.variant[1]}"`'
    return text


def _intro(model: type[BaseModel]) -> str:
    doc = _MODEL_DOCS.get(model) or inspect.cleandoc(model.__doc__ or "")
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    return "\n\n".join(p.replace("``", "`") for p in paragraphs)


def _table(s: Section) -> Iterator[str]:
    yield "| field | type | unit | default | allowed | description |"
    yield "|---|---|---|---|---|---|"
    for name, fi in s.model.model_fields.items():
        allowed = _allowed(fi)
        if s.variant is not None and name == s.variant[0]:
            allowed = f'`"{s.variant[1]}"`'
        cells = (f"`{name}`", _type_name(fi.annotation), unit(s.model, name), _default(fi), allowed)
        yield "| " + " | ".join(_cell(c) for c in (*cells, description(s.model, name))) + " |"


def render(root: type[BaseModel] = schema.Scenario) -> str:
    """The generated Markdown: one section per table of the scenario file."""
    out: list[str] = []
    for s in sections(root):
        out += [f"### {_heading(s)}", ""]
        intro = _intro(s.model)
        if intro:
            out += [intro, ""]
        out += [*_table(s), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def splice(page: str, block: str) -> str:
    """``page`` with the text between :data:`BEGIN` and :data:`END` replaced by ``block``."""
    try:
        head, rest = page.split(BEGIN + "\n", 1)
        _, tail = rest.split(END, 1)
    except ValueError:
        raise ValueError(f"the page lacks the markers {BEGIN!r} … {END!r}") from None
    return f"{head}{BEGIN}\n\n{block}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m touchdown.scenario.reference", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="rewrite the generated part of the page")
    group.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")
    parser.add_argument("--page", type=Path, default=PAGE, help=f"the page (default: {PAGE})")
    args = parser.parse_args(argv)
    block = render()
    if not (args.write or args.check):
        sys.stdout.write(block)
        return 0
    page = args.page.read_text(encoding="utf-8")
    new = splice(page, block)
    if args.check:
        if new != page:
            print(f"{args.page} is out of date: run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    if new != page:
        args.page.write_text(new, encoding="utf-8")
        print(f"wrote {args.page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["BEGIN", "END", "PAGE", "Section", "description", "main", "render", "sections", "splice", "unit"]

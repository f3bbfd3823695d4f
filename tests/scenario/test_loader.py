"""Scenario loading: the minimal file validates, --set overrides, and every malformed file is ONE line.

Malformed files are made by editing ``data/minimal.toml``; each goes through the CLI path
(``touchdown validate`` run as ``touchdown.cli.main`` runs it) and must give exit code 2, one stderr line
``touchdown: error: <file>:<line>: <field>: ...`` naming the file (or ``--set``), the field and, where
the text has one, the right line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import typer

import touchdown.cli as cli
from touchdown.commands.scenarios import register
from touchdown.errors import InputError
from touchdown.scenario import loader
from touchdown.scenario.loader import LoadedScenario, builtin_scenarios, load_scenario

MINIMAL = Path(__file__).parent / "data" / "minimal.toml"
TEXT = MINIMAL.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# the CLI, run as touchdown.cli.main runs it


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str):
    """(exit code, stdout, stderr) of ``touchdown.cli.main`` on a fresh app holding only our commands."""
    app = typer.Typer(name="touchdown", no_args_is_help=True, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    monkeypatch.setattr(cli, "app", app)
    try:
        cli.main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------------
# the minimal scenario and overrides


def test_minimal_loads_with_defaults() -> None:
    loaded = load_scenario(MINIMAL)
    assert isinstance(loaded, LoadedScenario)
    assert loaded.name == "minimal"
    assert loaded.source == str(MINIMAL)
    assert loaded.text == TEXT
    assert loaded.overrides == ()
    s = loaded.scenario
    assert s.vehicle.preset == "series1"
    assert s.vehicle.limits.max_tilt_deg == 12.0
    assert s.vehicle.limits.crash_speed_mps is None  # the preset's
    assert s.vehicle.isp_scale == 1.0
    assert s.initial.kind == "site"
    assert s.site.approach_azimuth_deg == 270.0
    assert s.terrain.source == "flat" and s.terrain.detail is True
    assert s.sensors.imu.ideal is False
    assert s.sensors.altimeter is not None and s.sensors.altimeter.name == "lrf"
    assert s.sensors.altimeter.beams_body[1] == (0.5, 0.0, -0.866)
    assert s.sensors.velocimeter is None
    assert s.faults[0].kind == "bias" and s.faults[0].duration_s == 20.0
    assert s.faults[0].reference == "altitude"
    assert s.fsw.navigation.gating == "latch" and s.fsw.navigation.gate_sigma == 5.0
    assert s.fsw.guidance.braking.law == "apollo"
    assert s.fsw.guidance.approach is None
    assert s.fsw.guidance.terminal.law == "vertical"
    assert s.fsw.sequencer.cutoffs[0].engines == ["main"]
    assert s.sim.dt_s == 0.05 and s.sim.gravity == "point_mass"
    assert s.expect.outcome is None


def test_overrides() -> None:
    items = (
        "sim.dt_s=0.1",  # nested value
        "fsw.navigation.gating=robust",  # bare string
        "scenario.description=a run with spaces",  # bare string with spaces
        'scenario.name="quoted = name"',  # TOML string
        "sensors.velocimeter.rate_hz=2",  # new table, created on the way
        'fsw.guidance.approach={law = "vertical", vertical_rate_mps = -3.0}',  # new entry, inline table
        "faults.0.value=30",  # list index
        "faults.0.duration_s='inf'",
        "sensors.altimeter.beams_body.1=[0.0, 0.5, -0.866]",  # list element of a list
        "fsw.sequencer.cutoffs.0.engines.0=aux",  # index at depth
        "expect.outcome=landed",
        "expect.touchdown.miss_m={max = 12.5}",  # a new inline table
    )
    loaded = load_scenario(str(MINIMAL), items)
    s = loaded.scenario
    assert loaded.overrides == items
    assert loaded.text == TEXT  # as read, before overrides
    assert loaded.name == "quoted = name"
    assert s.sim.dt_s == 0.1
    assert s.fsw.navigation.gating == "robust"
    assert s.scenario.description == "a run with spaces"
    assert s.sensors.velocimeter is not None and s.sensors.velocimeter.rate_hz == 2.0
    assert s.sensors.velocimeter.name == "velocimeter"
    assert s.fsw.guidance.approach is not None and s.fsw.guidance.approach.law == "vertical"
    assert s.fsw.guidance.approach.vertical_rate_mps == -3.0
    assert s.faults[0].value == 30 and s.faults[0].duration_s == "inf"
    assert s.sensors.altimeter is not None and s.sensors.altimeter.beams_body[1] == (0.0, 0.5, -0.866)
    assert s.fsw.sequencer.cutoffs[0].engines == ["aux"]
    assert s.expect.outcome == "landed" and s.expect.touchdown.miss_m is not None
    assert s.expect.touchdown.miss_m.max == 12.5
    assert load_scenario(MINIMAL).scenario.sim.dt_s == 0.05  # nothing shared between loads


def test_validate_ok(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "validate", str(MINIMAL))
    assert (code, out, err) == (0, f"ok: minimal ({MINIMAL})\n", "")
    code, out, err = run_cli(
        monkeypatch, capsys, "validate", str(MINIMAL), "--set", "scenario.name=other", "--set", "sim.dt_s=1"
    )
    assert (code, out, err) == (0, f"ok: other ({MINIMAL})\n", "")


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("lfr", "fault 'late_acquisition' targets unknown sensor 'lfr'; sensors: imu, star_tracker, lrf"),
        ("lrf.speed", "sensor 'lrf' has no channel 'speed'; channels: range"),
    ],
)
def test_validate_names_a_fault_target_the_lander_lacks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], target: str, says: str
) -> None:
    code, out, err = run_cli(
        monkeypatch, capsys, "validate", "resilience-m2", "--set", f"faults.0.target={target}"
    )
    assert (code, out) == (2, "") and err == f"touchdown: error: builtin:resilience-m2: {says}\n"


# --------------------------------------------------------------------------------------------------
# malformed files


def sub(old: str, new: str) -> Callable[[str], str]:
    """Replace ``old`` (which must occur exactly once) by ``new``."""

    def edit(text: str) -> str:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in minimal.toml"
        return text.replace(old, new)

    return edit


def drop_block(header: str) -> Callable[[str], str]:
    """Remove the table starting at ``header`` up to the next blank line."""

    def edit(text: str) -> str:
        start = text.index(header + "\n")
        end = text.index("\n\n", start)
        return text[:start] + text[end + 2 :]

    return edit


def drop_blocks(*headers: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        for h in headers:
            text = drop_block(h)(text)
        return text

    return edit


ORBIT = """[initial]
kind = "orbit"
periapsis_altitude_m = 15000.0
apoapsis_altitude_m = 12000.0
periapsis_range_m = 400000.0
"""
SITE = """[initial]
kind = "site"
altitude_m = 2000.0
range_m = 6000.0
speed_mps = 120.0
flight_path_angle_deg = -5.0
"""

# (id, edit, text in the error (the field), text of the line it must point at, or None: no line)
CASES: list[tuple[str, Callable[[str], str], str, str | None]] = [
    # unknown keys at several depths
    ("typo-top-table", sub("[vehicle]", "[vehicel]"), "vehicel: unknown field", "[vehicel]"),
    ("typo-top-table-extra", sub("[sim]", "[simulation]"), "simulation: unknown field", "[simulation]"),
    ("typo-depth2", sub("propellant_kg =", "propelant_kg ="), "vehicle.propelant_kg", "propelant_kg ="),
    ("typo-inline-table", sub("{ max_tilt_deg", "{ max_tlit_deg"), "limits.max_tlit_deg", "limits = {"),
    (
        "typo-subtable",
        sub("rate_hz = 10.0", "rate_hz = 10.0\nmax_rnage_m = 100.0"),
        "sensors.altimeter.max_rnage_m: unknown field (did you mean 'max_range_m'?); "
        "allowed: enabled, name, rate_hz",
        "max_rnage_m =",
    ),
    ("typo-fault", sub("value = 50.0", "valeu = 50.0"), "faults[0].valeu", "valeu ="),
    ("typo-phase", sub('targets = "series1', 'target = "series1'), "braking.target:", 'target = "series'),
    ("typo-array-of-tables", sub("altitude_m = 2.0", "altitud_m = 2.0"), "cutoffs[0].altitud_m", "altitud_m"),
    ("typo-orbit-field", sub("range_m = 6000.0", "rnage_m = 6000.0"), "initial.rnage_m", "rnage_m ="),
    ("typo-vertical-law", sub("vertical_rate_mps =", "tau_s = 3\nvertical_rate_mps ="), "tau_s", "tau_s ="),
    # wrong types
    ("type-number", sub("lat_deg = 47.8", 'lat_deg = "north"'), "site.lat_deg: must be a number", "lat_deg"),
    ("type-bool", sub('source = "flat"', 'source = "flat"\ndetail = 3'), "terrain.detail", "detail ="),
    ("type-string-rate", sub("rate_hz = 10.0", 'rate_hz = "fast"'), "altimeter.rate_hz", "rate_hz ="),
    ("type-table", sub("limits = {", "limits = 12.0 #"), "vehicle.limits: must be a table", "limits ="),
    ("type-integer", sub('gating = "latch"', 'gating = "latch"\nlatch_count = 1.5'), "latch_count", "latch_"),
    ("type-list-element", sub('engines = ["main"]', "engines = [3]"), "engines[0]", "engines ="),
    ("type-fault-value", sub("value = 50.0", 'value = "big"'), "faults[0].value", "value ="),
    ("type-section-array", sub("[sim]", "[[sim]]"), "sim: must be a table", "[[sim]]"),
    (
        "expect-value-without-tolerance",
        lambda t: t + "\n[expect.touchdown]\ntime_s = { value = 756.0 }\n",
        "expect.touchdown.time_s: value needs tol (absolute) or rel (fraction)",
        "time_s = {",
    ),
    (
        "expect-unknown-figure",
        lambda t: t + "\n[expect.touchdown]\nhover_s = { max = 1.0 }\n",
        "did you mean 'hover_time_s'",
        "hover_s =",
    ),
    # out of range
    ("negative-mass", sub("propellant_kg = 300.0", "propellant_kg = -300.0"), "propellant_kg", "propellant"),
    ("lat-95", sub("lat_deg = 47.8", "lat_deg = 95.0"), "site.lat_deg: must be ≤ 90, got 95.0", "lat_deg"),
    ("lon-400", sub("lon_deg = 329.0", "lon_deg = 400.0"), "site.lon_deg: must be ≤ 360", "lon_deg"),
    ("negative-dt", sub("dt_s = 0.05", "dt_s = -0.05"), "sim.dt_s: must be > 0, got -0.05", "dt_s ="),
    ("tilt-120-inline", sub("max_tilt_deg = 12.0", "max_tilt_deg = 120.0"), "max_tilt_deg", "limits ="),
    ("nan-altitude", sub("altitude_m = 2000.0", "altitude_m = nan"), "initial.altitude_m", "altitude_m = n"),
    ("negative-duration", sub("duration_s = 20.0", "duration_s = -1.0"), "duration_s: must be > 0", "durat"),
    ("empty-name", sub('name = "minimal"', 'name = ""'), "scenario.name: must not be empty", 'name = ""'),
    (
        "empty-cutoff-engines",
        sub('engines = ["main"]', "engines = []"),
        "engines: must have at least 1",
        "engi",
    ),
    # fault kinds
    (
        "unknown-fault-kind",
        sub('kind = "bias"', 'kind = "bais"'),
        "faults[0].kind: input should be 'off'",
        "bais",
    ),
    ("fault-bias-without-value", sub("value = 50.0\n", ""), "faults[0]: fault 'bias'", "[[faults]]"),
    ("fault-drift-without-rate", sub('kind = "bias"', 'kind = "drift"'), "needs 'rate_per_s'", "[[faults]]"),
    (
        "fault-thrust-loss-fraction",
        sub('kind = "bias"\ntarget = "lrf"', 'kind = "thrust_loss"\ntarget = "all"'),
        "faults[0]: fault 'thrust_loss' on 'all': thrust_loss value is a fraction",
        "[[faults]]",
    ),
    (
        "fault-unknown-phase",
        sub("start_altitude_m", 'start_phase = "landing"\nstart_altitude_m'),
        "phase",
        "ph",
    ),
    (
        "second-fault",
        lambda t: t + '\n[[faults]]\nkind = "off"\n',
        "faults[1].target: missing",
        '[[faults]]\nkind = "off',
    ),
    # vocabularies
    (
        "unknown-law",
        sub('law = "apollo"', 'law = "apolo"'),
        "braking.law: input should be 'apollo', 'v",
        "apolo",
    ),
    ("unknown-targets", sub('"series1-braking"', '"series2-braking"'), "braking.targets", "targets ="),
    (
        "unknown-gating",
        sub('gating = "latch"', 'gating = "latch2"'),
        "gating: input should be 'latch', '",
        "gating =",
    ),
    (
        "unknown-preset",
        sub('preset = "series1"', 'preset = "series2"'),
        "vehicle.preset: input should",
        "preset",
    ),
    (
        "unknown-gravity",
        sub("t_max_s = 600.0", 't_max_s = 600.0\ngravity = "j3"'),
        "sim.gravity",
        "gravity =",
    ),
    ("unknown-terrain", sub('source = "flat"', 'source = "lidar"'), "terrain.source", "source ="),
    (
        "wrong-initial-kind",
        sub('kind = "site"', 'kind = "sight"'),
        "initial.kind: input should be 'orbit'",
        "sight",
    ),
    ("initial-kind-missing", sub('kind = "site"\n', ""), "initial.kind: missing field", "[initial]"),
    # missing sections and fields
    ("missing-vehicle", drop_block("[vehicle]"), "vehicle: missing section", None),
    ("missing-initial", drop_block("[initial]"), "initial: missing section", None),
    (
        "missing-fsw",
        drop_blocks(
            "[fsw.navigation]",
            "[fsw.guidance.braking]",
            "[fsw.guidance.terminal]",
            "[[fsw.sequencer.cutoffs]]",
        ),
        "fsw: missing section",
        None,
    ),
    (
        "missing-braking",
        sub("[fsw.guidance.braking]", "[fsw.guidance.approach]"),
        "guidance.braking: missing",
        None,
    ),
    ("missing-field", sub("range_m = 6000.0\n", ""), "initial.range_m: missing field", "[initial]"),
    ("missing-site-lat", sub("lat_deg = 47.8\n", ""), "site.lat_deg: missing field", "[site]"),
    # cross-field and vector checks
    ("apoapsis-below-periapsis", sub(SITE, ORBIT), "apoapsis_altitude_m must be ≥ periapsis", "[initial]"),
    (
        "orbit-site-fields",
        sub('kind = "site"', 'kind = "orbit"'),
        "initial.periapsis_altitude_m",
        "[initial]",
    ),
    (
        "zero-length-beam",
        sub("[0.5, 0.0, -0.866]", "[0.0, 0.0, 0.0]"),
        "beams_body: beam 1 has zero",
        "beams",
    ),
    ("short-beam", sub("[0.5, 0.0, -0.866]", "[0.5, 0.0]"), "beams_body[1]: must have 3 items", "[0.5, 0.0]"),
    (
        "long-beam",
        sub("[0.5, 0.0, -0.866]", "[0.5, 0, 0, 1]"),
        "beams_body[1]: must have at most 3",
        "[0.5, 0,",
    ),
    ("beam-element-type", sub("[0.5, 0.0, -0.866]", '[0.5, "x", 1]'), "beams_body[1][1]: must be a n", '"x"'),
    # TOML syntax
    ("syntax-no-equals", sub("lat_deg = 47.8", "lat_deg 47.8"), "TOML syntax error", "lat_deg 47.8"),
    ("syntax-bad-number", sub("dt_s = 0.05", "dt_s = 0.05.1"), "TOML syntax error", "dt_s = 0.05.1"),
    ("syntax-unclosed-header", sub("[site]", "[site"), "TOML syntax error", "[site"),
    ("syntax-unclosed-string", sub('"latch"', '"latch'), "TOML syntax error", 'gating = "latch'),
    (
        "duplicate-key",
        sub("lat_deg = 47.8", "lat_deg = 47.8\nlat_deg = 48.0"),
        "'lat_deg = 48.0'",
        "lat_deg = 48",
    ),
    ("duplicate-table", sub("[sim]", "[site]"), "Cannot declare ('site',) twice", "[site]\ndt_s"),
]


def line_of(text: str, needle: str) -> int:
    """1-based line number of the single occurrence of ``needle`` (which may span lines: its first line)."""
    hits = [m.start() for m in re.finditer(re.escape(needle), text)]
    assert len(hits) == 1, f"{needle!r} occurs {len(hits)} times in the edited text"
    return text.count("\n", 0, hits[0]) + 1


def test_enough_cases() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("edit", "field", "at"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_file_is_one_line(
    edit: Callable[[str], str],
    field: str,
    at: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = edit(TEXT)
    assert text != TEXT
    path = tmp_path / "scen.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(monkeypatch, capsys, "validate", str(path))
    assert code == 2, (out, err)
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(f"touchdown: error: {path}:"), err
    assert field in err, err
    m = re.match(rf"touchdown: error: {re.escape(str(path))}:(\d+): ", err)
    if at is None:
        assert m is None, err
        assert err.startswith(f"touchdown: error: {path}: "), err
    else:
        assert m is not None, err
        assert int(m.group(1)) == line_of(text, at), err
    with pytest.raises(InputError):  # the library raises the same error
        load_scenario(path)


# --------------------------------------------------------------------------------------------------
# bad --set items

SET_CASES: list[tuple[str, str, str]] = [
    # (id, item, text in the error besides "--set <item>")
    ("no-equals", "fsw.navigation.gating", "expected dotted.path=value"),
    ("empty-path", "=3", "empty path"),
    ("empty-key", "fsw..gating=robust", "empty key in path 'fsw..gating'"),
    ("index-out-of-range", "faults.5.value=1", "index 5 is out of range (faults has 1 item(s))"),
    ("index-not-a-number", "faults.first.value=1", "faults is an array; 'first' is not an index"),
    ("key-under-value", "site.lat_deg.x=1", "cannot set 'x': site.lat_deg is a value, not a table"),
    ("bad-vocabulary", "fsw.navigation.gating=latch2", "input should be 'latch', 'robust' or 'none'"),
    ("bad-range", "site.lat_deg=95", "must be ≤ 90, got 95"),
    ("bad-type", "sim.dt_s=fast", "must be a number, got 'fast'"),
    ("unknown-key", "sensors.altimeter.max_rnage_m=3", "unknown field (did you mean 'max_range_m'?)"),
    ("unknown-key-in-table", "sensors.altimeter={max_rnage_m=3}", "sensors.altimeter.max_rnage_m: unknown"),
    ("new-table-missing-field", "fsw.guidance.approach.law=apollo", "fsw.guidance.approach.targets: missing"),
    (
        "fault-kind",
        "faults.0.kind=drift",
        "faults[0]: fault 'drift' on 'lrf': kind 'drift' needs 'rate_per_s'",
    ),
    ("fault-value-union", "faults.0.value=abc", "must be a number or an array, got 'abc'"),
    ("fault-list-element", "faults.0.value=[1, 'a']", "faults[0].value[1]: must be a number"),
]


@pytest.mark.parametrize(("item", "expected"), [c[1:] for c in SET_CASES], ids=[c[0] for c in SET_CASES])
def test_bad_set_item_is_one_line(
    item: str, expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        monkeypatch, capsys, "validate", str(MINIMAL), "--set", "sim.dt_s=0.1", "--set", item
    )
    assert code == 2, (out, err)
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"touchdown: error: --set {item}: "), err
    assert expected in err, err


def test_error_in_file_not_blamed_on_set(tmp_path: Path) -> None:
    path = tmp_path / "scen.toml"
    path.write_text(sub('gating = "latch"', 'gating = "latch2"')(TEXT), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(path, ["sim.dt_s=0.1", "fsw.navigation.gate_sigma=4"])
    assert str(exc.value).startswith(f"{path}:{line_of(TEXT, 'gating =')}: fsw.navigation.gating: input")
    load_scenario(path, ["fsw.navigation.gating=none"])  # an override can repair the file


# --------------------------------------------------------------------------------------------------
# files that cannot be read


def test_missing_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.toml"
    code, out, err = run_cli(monkeypatch, capsys, "validate", str(missing))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(
        f"touchdown: error: {missing}: no such scenario file or built-in scenario; built-ins: "
    )
    code, out, err = run_cli(monkeypatch, capsys, "validate", str(tmp_path))
    assert code == 2 and err == f"touchdown: error: {tmp_path}: is a directory, not a scenario file\n"


def test_not_utf8(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(TEXT.replace('"minimal"', '"caf\u00e9"').encode("latin-1"))
    code, out, err = run_cli(monkeypatch, capsys, "validate", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1
    line = line_of(TEXT, "name =")
    assert err.startswith(f"touchdown: error: {path}:{line}: not UTF-8 text (byte 0xe9"), err
    path.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())  # a UTF-8 byte-order mark is fine
    assert load_scenario(path).name == "minimal"


# --------------------------------------------------------------------------------------------------
# the line locator on its own


def test_locator_finds_every_kind_of_key() -> None:
    text = """# [not.a.table] in a comment
title = '''
[also.not] a table
key = "not a key"
'''
"quoted.key" = 1
a.b.c = { d = 1, e = [ {f = 2}, {f = 3} ] }
arr = [
  1,  # a comment with ] and [
  [2, 3],
]

[[x.y]]
z = 1
[[x.y]]
z = "two"   # second entry
[x.y.w]
v = 4
[ spaced . "quoted" ]
k = 'lit'
"""
    lines = loader._Locator(text).lines
    expected = {
        ("title",): 2,
        ("quoted.key",): 6,
        ("a", "b", "c"): 7,
        ("a", "b", "c", "e", 1, "f"): 7,
        ("arr", 0): 9,
        ("arr", 1, 1): 10,
        ("x", "y", 0): 13,
        ("x", "y", 0, "z"): 14,
        ("x", "y", 1): 15,
        ("x", "y", 1, "z"): 16,
        ("x", "y", 1, "w"): 17,
        ("x", "y", 1, "w", "v"): 18,
        ("spaced", "quoted", "k"): 20,
    }
    for path, line in expected.items():
        assert lines.get(path) == line, path
    assert ("not", "a", "table") not in lines and ("also", "not") not in lines and ("key",) not in lines
    assert ("x",) not in lines  # only declared tables get a line


def test_locator_never_raises() -> None:
    for text in ["[", "a = ", "a = [1, 2", "a = {b = ", '"unterminated = 1', "[[x]]\n[x.y"]:
        loader._Locator(text)


# --------------------------------------------------------------------------------------------------
# built-in scenarios


def test_scenarios_command_lists_builtins(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builtins = builtin_scenarios()
    assert [n for n, _ in builtins] == sorted(n for n, _ in builtins)
    for name, description in builtins:
        assert description, f"built-in {name} has no [scenario].description"
        assert "\n" not in description
    code, out, err = run_cli(monkeypatch, capsys, "scenarios", "--json")
    assert code == 0 and err == ""
    assert json.loads(out) == [{"name": n, "description": d} for n, d in builtins]
    code, out, _ = run_cli(monkeypatch, capsys, "scenarios")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [n for n, _ in builtins]


def test_every_builtin_validates() -> None:
    for name, _ in builtin_scenarios():
        loaded = load_scenario(name)
        assert loaded.source == f"builtin:{name}"
        assert loaded.text


def test_builtin_lookup(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With a library of our own: names, one-line descriptions, loading by name, the missing-name list."""
    lib = tmp_path / "library"
    lib.mkdir()
    (lib / "b-minimal.toml").write_text(TEXT, encoding="utf-8")
    (lib / "a-multiline.toml").write_text(
        sub(
            'description = "Series 1 braking from 2 km with a 50 m altimeter bias"',
            'description = """two\nlines"""',
        )(TEXT),
        encoding="utf-8",
    )
    (lib / "README.md").write_text("not a scenario", encoding="utf-8")
    monkeypatch.setattr(loader, "_library", lambda: lib)
    assert builtin_scenarios() == [
        ("a-multiline", "two lines"),
        ("b-minimal", "Series 1 braking from 2 km with a 50 m altimeter bias"),
    ]
    loaded = load_scenario("b-minimal", ["sim.dt_s=0.1"])
    assert (loaded.source, loaded.name, loaded.scenario.sim.dt_s) == ("builtin:b-minimal", "minimal", 0.1)
    assert load_scenario("builtin:a-multiline").source == "builtin:a-multiline"
    code, out, err = run_cli(monkeypatch, capsys, "validate", "b-minimal")
    assert (code, out, err) == (0, "ok: minimal (builtin:b-minimal)\n", "")
    code, out, err = run_cli(monkeypatch, capsys, "validate", "c-missing")
    assert code == 2
    assert err == (
        "touchdown: error: c-missing: no such scenario file or built-in scenario; "
        "built-ins: a-multiline, b-minimal\n"
    )
    code, out, err = run_cli(monkeypatch, capsys, "scenarios")
    assert out.splitlines()[0].split() == ["a-multiline", "two", "lines"]
    (lib / "c-broken.toml").write_text(sub("[site]", "[site")(TEXT), encoding="utf-8")
    with pytest.raises(InputError, match=r"^builtin:c-broken:\d+: TOML syntax error"):
        builtin_scenarios()


def test_library_is_packaged_as_data() -> None:
    """The library sits inside the package, where hatch's wheel (packages = src/touchdown) takes it."""
    import touchdown.scenario

    pkg = Path(touchdown.scenario.__file__).parent
    lib = loader._library()
    assert Path(str(lib)) == pkg / "library"


def test_unquoted_inf_duration_is_for_ever(tmp_path: Path) -> None:
    """TOML's own ``inf`` (file or --set) means a fault that never ends."""
    path = tmp_path / "scen.toml"
    path.write_text(TEXT.replace("duration_s = 20.0", "duration_s = inf"))
    assert load_scenario(path).scenario.faults[0].duration_s == math.inf
    assert load_scenario(MINIMAL, ["faults.0.duration_s=inf"]).scenario.faults[0].duration_s == math.inf

"""PDS3 (ODL) label parser: the real LDEM_4 label, the syntax corners, and malformed labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from touchdown.errors import InputError
from touchdown.moon.terrain.pds3 import Quantity, find_key, find_object, parse_label, parse_label_text


def test_ldem4_label(lola_label: Path) -> None:
    label = parse_label(lola_label)
    assert label["PRODUCT_ID"] == "LDEM_4"
    image = find_object(label, "IMAGE")
    assert image is not None
    assert (image["LINES"], image["LINE_SAMPLES"], image["SAMPLE_BITS"]) == (720, 1440, 16)
    assert image["SAMPLE_TYPE"] == "LSB_INTEGER"
    assert image["SCALING_FACTOR"] == 0.5 and image["OFFSET"] == 1737400.0
    assert (image["MINIMUM"], image["MAXIMUM"]) == (-17758, 21008)
    assert label["UNCOMPRESSED_FILE"]["^IMAGE"] == "LDEM_4.IMG"
    assert find_key(label, "RECORD_BYTES") == 2880
    proj = label["IMAGE_MAP_PROJECTION"]
    assert proj["MAP_RESOLUTION"] == Quantity(4, "pix/deg")
    assert proj["A_AXIS_RADIUS"] == Quantity(1737.4, "km")
    assert proj["LINE_PROJECTION_OFFSET"] == Quantity(359.5, "pix")
    assert proj["MAP_PROJECTION_TYPE"] == "SIMPLE CYLINDRICAL"
    assert proj["FIRST_STANDARD_PARALLEL"] == "N/A"
    assert proj["^DATA_SET_MAP_PROJECTION"] == "DSMAP.CAT"
    # A set whose quoted items wrap across lines.
    assert label["MISSION_PHASE_NAME"][1] == "NOMINAL MISSION"
    assert label["MISSION_PHASE_NAME"][5] == "THIRD EXTENDED SCIENCE MISSION"
    assert len(label["MISSION_PHASE_NAME"]) == 6
    assert label["DESCRIPTION"].startswith("This data product is a shape map (radius) of the Moon")
    assert "\n" not in label["DESCRIPTION"]
    assert label["START_TIME"] == "2009-07-13T17:33:17"


SYNTAX = """PDS_VERSION_ID = PDS3
/* a comment
   over two lines */
RECORD_BYTES = 512  /* trailing comment */
^IMAGE = ("DATA.IMG", 3)
^TABLE = 1025 <BYTES>
MASK = 16#FF00#
NEG = -2#101#
SEQ = (1, 2.5, -3E2, ABC)
NESTED = ((1, 2), (3, 4 <m>))
SET = {A, "B C", 'lit'}
EMPTY = ()
KEY:NAMESPACED = 1
GROUP = INFO
  NOTE = "x"
END_GROUP = INFO
OBJECT = OUTER
  OBJECT = INNER
    X = 1
  END_OBJECT
  OBJECT = INNER
    X = 2
  END_OBJECT = INNER
END_OBJECT = OUTER
END
this is ignored: not ODL at all ===
"""


def test_syntax_corners() -> None:
    label = parse_label_text(SYNTAX, "syntax.lbl")
    assert label["^IMAGE"] == ("DATA.IMG", 3)
    assert label["^TABLE"] == Quantity(1025, "BYTES")
    assert label["RECORD_BYTES"] == 512
    assert label["MASK"] == 0xFF00 and label["NEG"] == -5
    assert label["SEQ"] == (1, 2.5, -300.0, "ABC")
    assert label["NESTED"] == ((1, 2), (3, Quantity(4, "m")))
    assert label["SET"] == ["A", "B C", "lit"]
    assert label["EMPTY"] == ()
    assert label["KEY:NAMESPACED"] == 1
    assert label["INFO"] == {"NOTE": "x"}
    assert label["OUTER"]["INNER"] == [{"X": 1}, {"X": 2}]
    assert find_object(label, "INNER") == {"X": 1}


def test_missing_end_is_tolerated() -> None:
    assert parse_label_text("A = 1\nB = 2\n") == {"A": 1, "B": 2}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("A = 1\nLINES 720\n", 2, "expected '='"),
        ('A = 1\nB = "never closed\nC = 3\n', 2, "never closed"),
        ("A = 1\nOBJECT = IMAGE\n  X = 1\nEND\n", 4, "END reached inside OBJECT = IMAGE"),
        ("OBJECT = IMAGE\n  X = 1\n", 1, "never closed"),
        ("OBJECT = IMAGE\nEND_OBJECT = TABLE\nEND\n", 2, "closes OBJECT = IMAGE"),
        ("END_OBJECT = IMAGE\n", 1, "without a matching OBJECT"),
        ("A = 1\nA = 2\n", 2, "duplicate keyword A"),
        ("A = 1\nB =\nC = 3\n", 2, "B has no value"),
        ("A = (1, 2\n", 1, "never closed"),
        ("A = (1 2)\n", 1, "expected ','"),
        ("A = 1 2\n", 1, "unexpected '2'"),
        ("A = 1\n  = 3\n", 2, "expected a keyword"),
        ("A = 1\n/* open comment\nB = 2\n", 2, "comment"),
        ("A = >\n", 1, "unexpected character"),
    ],
)
def test_malformed_labels_name_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_label_text(text, "bad.lbl")
    msg = str(exc.value)
    assert msg.startswith(f"bad.lbl line {line}: malformed PDS3 label")
    assert words in msg
    assert "\n" not in msg


def test_missing_label_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        parse_label(tmp_path / "NONE.LBL")
    assert "NONE.LBL" in str(exc.value)


def test_attached_label_stops_at_end(tmp_path: Path) -> None:
    path = tmp_path / "attached.img"
    header = b"PDS_VERSION_ID = PDS3\r\nRECORD_BYTES = 64\r\nLABEL_RECORDS = 1\r\n^IMAGE = 2\r\nEND\r\n"
    path.write_bytes(header.ljust(64, b" ") + bytes(range(256)) * 5000)
    label = parse_label(path)
    assert label == {"PDS_VERSION_ID": "PDS3", "RECORD_BYTES": 64, "LABEL_RECORDS": 1, "^IMAGE": 2}

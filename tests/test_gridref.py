"""OS grid references, checked against published national grid positions: the letters pick
the 100 km square, the digits the square inside it, and a reference means its square's
centre."""

from __future__ import annotations

import pytest

from geo.gridref import GridReferenceError, format_grid_reference, parse_grid_reference


@pytest.mark.parametrize(("reference", "easting", "northing", "size"), [
    ("TQ 036 715", 503650, 171550, 100),       # Staines Bridge: TQ is 500 km E, 100 km N
    ("NN 166 712", 216650, 771250, 100),       # Ben Nevis summit (OS: NN 16669 71255)
    ("SV 912 100", 91250, 10050, 100),         # Isles of Scilly: the grid's far south-west
    ("HY 123 456", 312350, 1045650, 100),      # Orkney: the H squares
    ("tq0360071500", 503600.5, 171500.5, 1),   # 10 figures, no spaces, any case
    ("TQ 03 71", 503500, 171500, 1000),
    ("TQ", 550000, 150000, 100000),
])
def test_references_give_the_centre_of_their_square(reference, easting, northing,
                                                    size) -> None:
    assert parse_grid_reference(reference) == (easting, northing, size)


def test_a_point_gives_back_its_reference() -> None:
    for e, n in ((503650, 171550), (216669, 771255), (91250, 10050), (312350, 1045650)):
        again = parse_grid_reference(format_grid_reference(e, n))
        assert abs(again[0] - e) <= 50 and abs(again[1] - n) <= 50


@pytest.mark.parametrize(("text", "words"), [
    ("XX 036 715", "not a 100 km square"),
    ("AA 036 715", "not a 100 km square"),   # A is a 500 km square off Britain
    ("TQ 0367 15", "as many digits"),
    ("TQ 03671", "5 digits"),
    ("TQ 036 715 1", "not an OS grid reference"),
    ("503600 171500", "not an OS grid reference"),
    ("", "not an OS grid reference"),
])
def test_what_is_not_a_reference_is_refused_saying_why(text, words) -> None:
    with pytest.raises(GridReferenceError, match=words):
        parse_grid_reference(text)

"""Ordnance Survey grid references ('TQ 036 715') to and from British National Grid metres.

A reference names a square, not a point: 'TQ 036 715' is the 100 m square whose south-west
corner is 503600, 171500. `parse_grid_reference` returns the square's centre (503650,
171550), so a throwline typed to 100 m lies at most 71 m from where it is; it also returns
the square's size so callers can say how precise the location is.
"""

from __future__ import annotations

import re

from core.errors import UserError

# Letters of the 500 km and 100 km squares: a 5x5 grid of A-Z without I.
_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
# The 500 km squares that hold Great Britain: S, T (south), N, O (middle), H, J (north).
_FIRST_LETTERS = "HJNOST"
_REFERENCE = re.compile(r"^([A-Z]{2})\s*(\d*)\s*(\d*)$")


class GridReferenceError(UserError, ValueError):
    """Text that is not an OS grid reference on Great Britain's grid, with what is wrong."""


def _square_origin(letters: str) -> tuple[int, int]:
    """Easting and northing (metres) of the south-west corner of a 100 km square."""
    first, second = (_LETTERS.index(c) for c in letters)
    easting = ((first - 2) % 5) * 5 + (second % 5)
    northing = (19 - (first // 5) * 5) - (second // 5)
    return easting * 100_000, northing * 100_000


def parse_grid_reference(text: str) -> tuple[float, float, float]:
    """Easting, northing (the centre of the referenced square) and the square's size in
    metres, from references like 'TQ 036 715', 'TQ036715', 'TQ 03600 71500' or 'TQ 0 7'."""
    raw = (text or "").strip().upper()
    match = _REFERENCE.match(raw)
    if not match:
        raise GridReferenceError(
            f"'{text}' is not an OS grid reference: expected two letters and an even number of "
            "digits, e.g. TQ 036 715")
    letters, first_digits, second_digits = match.groups()
    if any(c not in _LETTERS for c in letters) or letters[0] not in _FIRST_LETTERS:
        raise GridReferenceError(f"'{letters}' is not a 100 km square of Great Britain's "
                                 "grid (e.g. TQ, SU)")
    digits = first_digits + second_digits
    if second_digits and len(first_digits) != len(second_digits):
        raise GridReferenceError(f"'{text}': the easting and northing need as many digits "
                                 "each (e.g. TQ 036 715)")
    if len(digits) % 2 or len(digits) > 10:
        raise GridReferenceError(f"'{text}' has {len(digits)} digits: a grid reference has "
                                 "an even number, at most 10 (e.g. TQ 036 715)")
    half = len(digits) // 2
    size = 10 ** (5 - half)
    east0, north0 = _square_origin(letters)
    easting = east0 + (int(digits[:half]) if half else 0) * size
    northing = north0 + (int(digits[half:]) if half else 0) * size
    return easting + size / 2, northing + size / 2, float(size)


def format_grid_reference(easting: float, northing: float, digits: int = 6) -> str:
    """The grid reference of the square holding a point, e.g. 'TQ 036 715' (6 digits =
    100 m squares)."""
    if not (0 <= easting < 700_000 and 0 <= northing < 1_300_000):
        raise GridReferenceError(f"{easting:.0f}, {northing:.0f} is off the national grid")
    east_km, north_km = int(easting // 100_000), int(northing // 100_000)
    first = (19 - north_km) // 5 * 5 + (east_km + 10) // 5
    second = (19 - north_km) * 5 % 25 + east_km % 5
    letters = _LETTERS[first] + _LETTERS[second]
    half = digits // 2
    size = 10 ** (5 - half)
    e = int(easting % 100_000 // size)
    n = int(northing % 100_000 // size)
    return f"{letters} {e:0{half}d} {n:0{half}d}"

"""Unit spellings of real exports parse, convert linearly, and fail with messages that name the tag and the fix."""

from __future__ import annotations

import pytest

from config.errors import PlantdataError
from config.units import UnitConversionError, canonical_unit, conversion, known_unit

SPELLINGS = (
    *("°C", "degC", "deg C", "DEGC", "DEGF", "degF", "K", "m³/h", "m3/h", "M3/H", "Nm3/h", "Nm³/h", "t/h", "kg/h"),
    *("l/min", "l/s", "gpm", "bar", "BAR", "barg", "bara", "mbar", "psi", "psig", "psia", "Pa", "kPa", "KPA", "MPa"),
    *("µm", "um", "mm/s", "in/s", "m/s²", "m/s2", "g", "rpm", "RPM", "1/min", "Hz", "A", "V", "kW", "W", "hp", "kWh"),
    *("%", "ppm", "pcs", "-", "flag", "m", "mm", "kg", "t", "s", "h"),
)


@pytest.mark.parametrize("unit", SPELLINGS)
def test_real_export_spellings_are_known(unit: str) -> None:
    assert known_unit(unit)


@pytest.mark.parametrize("unit", ["xyz/h", "", "  ", "m/s/", "((("])
def test_unparseable_units_are_not_known(unit: str) -> None:
    assert not known_unit(unit)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        *[("°C", "degC"), ("deg C", "degC"), ("DEGF", "degF"), ("m³/h", "m3/h"), ("M3/H", "m3/h"), ("Nm³/h", "Nm3/h")],
        *[("m/s²", "m/s2"), ("um", "µm"), ("bara", "bar"), ("KPA", "kPa"), ("-", "-"), ("pcs", "pcs")],
    ],
)
def test_canonical_unit_gives_one_spelling_per_unit(spelling: str, canonical: str) -> None:
    assert canonical_unit(spelling) == canonical
    assert canonical_unit(canonical) == canonical


@pytest.mark.parametrize(
    ("source", "target", "scale", "offset"),
    [
        ("degF", "degC", 5 / 9, -160 / 9),
        ("K", "degC", 1.0, -273.15),
        ("psi", "bar", 0.0689475729, 0.0),
        ("kPa", "bar", 0.01, 0.0),
        ("barg", "bar", 1.0, 1.01325),
        ("bar", "barg", 1.0, -1.01325),
        ("psig", "barg", 0.0689475729, 0.0),
        ("l/min", "m3/h", 0.06, 0.0),
        ("gpm", "m3/h", 0.227124707, 0.0),
        ("g", "m/s²", 9.80665, 0.0),
        ("mm/s2", "g", 1 / 9806.65, 0.0),
        ("g", "kg", 0.001, 0.0),
        ("mm/s", "in/s", 1 / 25.4, 0.0),
        ("Nm3/h", "Nm3/min", 1 / 60, 0.0),
        ("%", "ppm", 10_000.0, 0.0),
        ("rpm", "Hz", 1 / 60, 0.0),
        ("hp", "kW", 0.745699872, 0.0),
    ],
)
def test_conversion_is_linear_with_offset(source: str, target: str, scale: float, offset: float) -> None:
    got_scale, got_offset = conversion(source, target)
    assert (got_scale, got_offset) == (pytest.approx(scale, rel=1e-8), pytest.approx(offset, abs=1e-9))
    assert type(got_scale) is float
    assert type(got_offset) is float


@pytest.mark.parametrize(("source", "target"), [("m³/h", "m3/h"), ("°C", "degC"), ("DEGF", "degF"), ("pcs", "pcs")])
def test_same_unit_in_any_spelling_converts_exactly_by_identity(source: str, target: str) -> None:
    assert conversion(source, target) == (1.0, 0.0)


def test_celsius_to_fahrenheit_and_back_round_trips() -> None:
    to_f, to_c = conversion("°C", "degF"), conversion("degF", "°C")
    assert to_f == (pytest.approx(1.8), pytest.approx(32.0))
    for celsius in (-40.0, 0.0, 37.5, 100.0):
        fahrenheit = celsius * to_f[0] + to_f[1]
        assert fahrenheit * to_c[0] + to_c[1] == pytest.approx(celsius)


@pytest.mark.parametrize(
    ("source", "target"),
    [("Nm3/h", "m3/h"), ("psi", "degC"), ("t/h", "m3/h"), ("pcs", "%"), ("flag", "-"), ("g", "mm/s"), ("xyz/h", "bar")],
)
def test_conversion_between_different_dimensions_or_unknown_units_raises(source: str, target: str) -> None:
    with pytest.raises(UnitConversionError):
        conversion(source, target)


def test_conversion_error_names_the_tag_both_units_and_the_fix() -> None:
    with pytest.raises(UnitConversionError) as caught:
        conversion("psi", "degC", tag="P1.TEMP")
    error = caught.value
    assert (error.tag, error.source_unit, error.target_unit) == ("P1.TEMP", "psi", "degC")
    assert str(error).startswith("tag 'P1.TEMP': cannot convert 'psi' to 'degC' (pressure vs temperature); ")
    assert "`units:` entry" in str(error)
    assert "asset register" in str(error)
    assert isinstance(error, PlantdataError)
    assert not error.retryable


def test_conversion_error_for_an_unknown_unit_names_it() -> None:
    with pytest.raises(UnitConversionError, match="'xyz/h' is not a unit"):
        conversion("xyz/h", "m3/h")

"""Engineering units of plant exports: pint parses and converts them; a small alias table adds plant spellings.

Conversions are linear (target = source * scale + offset) so ingest can apply them in SQL. Plant conventions:

- `bar`, `bara`, `psi`, `psia` are absolute; `barg`, `psig` are gauge, i.e. absolute minus one standard atmosphere
  (the local air pressure is not known here), so barg -> bar is value + 1.01325.
- `Nm3` (normal cubic metre) has a dimension of its own: Nm3 -> m3 needs the gas's pressure and temperature, so
  Nm3/h -> m3/h raises while Nm3/h -> Nm3/min converts.
- `g` is gram, except in a conversion whose other side is an acceleration: then it is standard gravity.
- `pcs`, `flag` and `-` are labels with a dimension each: they convert only to themselves.
- `rpm` is one revolution per minute (pint counts 2*pi radians per revolution, making rpm -> Hz off by 2*pi).
"""

from __future__ import annotations

import re
from functools import cache
from tokenize import TokenError
from typing import Any

from config.errors import PlantdataError

# plant spellings that pint reads differently or not at all (after '²', '³' -> '2', '3') -> pint expression
_ALIASES = {
    "deg C": "degC",  # pint would read degree * coulomb
    "deg F": "degF",
    "bara": "bar",
    "psia": "psi",
    "gpm": "gallon / minute",
    "Nm": "N * m",  # torque; pint would read number_meter
    "-": "no_unit",
    "U/min": "rpm",  # German Umdrehungen pro Minute; pint would read enzyme units per minute
    "U/s": "revolution / second",
    "min-1": "rpm",
    "1/min": "rpm",
}
# all-caps exports ('DEGC', 'KPA', 'MM/S') match these spellings case-insensitively; pint itself stays
# case-sensitive because case matters (mbar/Mbar, mPa/MPa, mm/Mm)
_SHOUTABLE = (
    *("degC", "degF", "bar", "barg", "mbar", "psi", "psig", "Pa", "kPa", "MPa", "rpm", "1/min", "Hz", "kW", "kWh"),
    *("mm/s", "m3/h", "Nm3/h", "l/min", "kg/h", "t/h", "ppm"),
)
_SHOUTED = {s.casefold(): _ALIASES.get(s, s) for s in (*_ALIASES, *_SHOUTABLE)}
_DEFINITIONS = (
    "revolutions_per_minute = 1 / minute = rpm",
    "normal_cubic_meter = [normal_volume] = Nm3",
    "[normal_volume_flow_rate] = [normal_volume] / [time]",
    "[mass_flow_rate] = [mass] / [time]",
    *(f"{label} = [{label}]" for label in ("pcs", "flag", "no_unit")),  # labels: each converts only to itself
)
_NAMED_DIMENSIONS = (
    *("temperature", "pressure", "volumetric_flow_rate", "normal_volume_flow_rate", "mass_flow_rate", "velocity"),
    *("acceleration", "frequency", "power", "energy", "length", "mass", "electric_potential", "pcs", "flag"),
    "no_unit",
)
_NAME = re.compile(r"(?<![\w.])[^\W\d]\w*")


class UnitConversionError(PlantdataError):
    """Values cannot be converted between two units; terminal until the sources file or the register changes."""

    retryable = False

    def __init__(self, source_unit: str, target_unit: str, reason: str, *, tag: str | None = None) -> None:
        self.source_unit, self.target_unit, self.reason, self.tag = source_unit, target_unit, reason, tag
        where = f"tag {tag!r}: " if tag is not None else ""
        super().__init__(
            f"{where}cannot convert {source_unit!r} to {target_unit!r} ({reason}); correct the source's "
            "`units:` entry for this tag or the asset register's unit"
        )


@cache
def _registry() -> Any:
    import pint

    # pint takes about 0.5 s to import and load, hence on first use; 'ignore' lets our rpm replace pint's
    ureg: Any = pint.UnitRegistry(cache_folder=None, on_redefinition="ignore")
    for definition in _DEFINITIONS:
        ureg.define(definition)
    ureg.define(f"bar_gauge = bar; offset: {ureg.convert(1.0, 'atm', 'bar')!r} = barg")
    ureg.define(f"psi_gauge = psi; offset: {ureg.convert(1.0, 'atm', 'psi')!r} = psig")
    return ureg


def _power(match: re.Match[str]) -> str:
    """'m3' -> 'm**3' unless the whole name is a unit ('Nm3')."""
    name, ureg = match.group(), _registry()
    if name[-1] in "23" and name not in ureg and name[:-1] in ureg:
        return f"{name[:-1]}**{name[-1]}"
    return name


@cache
def _parse(unit: str) -> Any:
    """The pint unit for an export's spelling, or None when pint and the aliases do not know it."""
    from pint.errors import PintError

    text = unit.strip().replace("²", "2").replace("³", "3")
    if text.isupper():
        text = _SHOUTED.get(text.casefold(), text)
    text = _NAME.sub(_power, _ALIASES.get(text, text))
    try:
        return _registry().parse_units(text) if text else None  # pint reads '' as dimensionless
    except (PintError, ValueError, TokenError, AssertionError):  # pint's parser reports bad syntax with these
        return None


def _dimension(units: Any) -> str:
    named = (n for n in _NAMED_DIMENSIONS if units.dimensionality == _registry().get_dimensionality(f"[{n}]"))
    return next(named, str(units.dimensionality or "dimensionless")).replace("_", " ")


def known_unit(unit: str) -> bool:
    """Whether pint, with the plant aliases, can read `unit`."""
    return _parse(unit) is not None


def canonical_unit(unit: str) -> str:
    """One spelling per unit ('°C' -> 'degC', 'm³/h' -> 'm3/h', 'DEGF' -> 'degF'); unknown units come back stripped."""
    units = _parse(unit)
    if units is None:
        return unit.strip()
    text = format(units, "~C").replace("**", "").replace("°", "deg")
    return "-" if text == "no_unit" else text


def conversion(source_unit: str, target_unit: str, tag: str | None = None) -> tuple[float, float]:
    """(scale, offset) with target = source * scale + offset; raises UnitConversionError when there is none."""
    from pint.errors import PintError

    source, target = _parse(source_unit), _parse(target_unit)
    for unit, units in ((source_unit, source), (target_unit, target)):
        if units is None:
            reason = f"{unit!r} is not a unit pint or the aliases know"
            raise UnitConversionError(source_unit, target_unit, reason, tag=tag)
    source_name, target_name = canonical_unit(source_unit), canonical_unit(target_unit)
    if source_name == target_name:
        return 1.0, 0.0
    ureg = _registry()
    acceleration = ureg.get_dimensionality("[acceleration]")
    if source_name == "g" and target.dimensionality == acceleration:
        source = ureg.standard_gravity
    if target_name == "g" and source.dimensionality == acceleration:
        target = ureg.standard_gravity
    try:
        # the scale is sampled over 1000 units: over 1 unit it loses digits to a large offset (degF -> degC)
        offset = float(ureg.convert(0.0, source, target))
        scale = (float(ureg.convert(1000.0, source, target)) - offset) / 1000.0
    except PintError as error:
        same = source.dimensionality == target.dimensionality
        reason = str(error) if same else f"{_dimension(source)} vs {_dimension(target)}"
        raise UnitConversionError(source_unit, target_unit, reason, tag=tag) from error
    return scale, round(offset, 12)  # gauge -> gauge offsets cancel to float dust (4e-16)

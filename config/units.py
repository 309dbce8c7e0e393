"""Engineering units and the linear conversions between them (value * scale + offset)."""

from __future__ import annotations

from config.errors import PlantdataError

# unit -> (canonical unit of its dimension, scale, offset)
_TO_CANONICAL: dict[str, tuple[str, float, float]] = {
    "degC": ("degC", 1.0, 0.0),
    "degF": ("degC", 5.0 / 9.0, -32.0 * 5.0 / 9.0),
    "K": ("degC", 1.0, -273.15),
    "bar": ("bar", 1.0, 0.0),
    "mbar": ("bar", 0.001, 0.0),
    "kPa": ("bar", 0.01, 0.0),
    "MPa": ("bar", 10.0, 0.0),
    "Pa": ("bar", 1e-5, 0.0),
    "psi": ("bar", 0.0689475729, 0.0),
    "m3/h": ("m3/h", 1.0, 0.0),
    "l/min": ("m3/h", 0.06, 0.0),
    "l/s": ("m3/h", 3.6, 0.0),
    "gpm": ("m3/h", 0.227124707, 0.0),
    "mm/s": ("mm/s", 1.0, 0.0),
    "in/s": ("mm/s", 25.4, 0.0),
    "kW": ("kW", 1.0, 0.0),
    "W": ("kW", 0.001, 0.0),
    "hp": ("kW", 0.745699872, 0.0),
}
# units without conversions: kept as they are
_PLAIN = frozenset({"A", "V", "%", "rpm", "Hz", "g", "m", "mm", "kg", "t", "s", "h", "pcs", "flag", "-", "kWh", "ppm"})


class UnitConversionError(PlantdataError):
    def __init__(self, source_unit: str, target_unit: str) -> None:
        super().__init__(
            f"cannot convert {source_unit!r} to {target_unit!r}: different dimensions or unknown units; "
            f"check the source's units: entry against the asset register"
        )


def known_unit(unit: str) -> bool:
    return unit in _TO_CANONICAL or unit in _PLAIN


def conversion(source_unit: str, target_unit: str) -> tuple[float, float]:
    """(scale, offset) with target = source * scale + offset."""
    if source_unit == target_unit:
        return 1.0, 0.0
    if source_unit not in _TO_CANONICAL or target_unit not in _TO_CANONICAL:
        raise UnitConversionError(source_unit, target_unit)
    dim_s, scale_s, offset_s = _TO_CANONICAL[source_unit]
    dim_t, scale_t, offset_t = _TO_CANONICAL[target_unit]
    if dim_s != dim_t:
        raise UnitConversionError(source_unit, target_unit)
    # canonical = s*scale_s + offset_s ; target = (canonical - offset_t) / scale_t
    return scale_s / scale_t, (offset_s - offset_t) / scale_t

"""Vectorised signal building blocks: first-order lags, coloured noise, periodic patterns."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from demo_plant.arrays import Array


@dataclass(frozen=True)
class Signal:
    """Noise-free value of one tag on the coarse grid plus how to dirty it when sampled.

    `noise` is the standard deviation of additive sensor noise (scalar or per grid point);
    `bursts` the per-sample probability of a positive burst of mean size `burst_size`;
    `setpoint` the controller setpoint (used for deviation alarms).
    """

    mean: Array
    noise: Array | float
    bursts: Array | None = None
    burst_size: float = 0.0
    setpoint: Array | None = None


def fft_convolve(x: Array, kernel: Array) -> Array:
    """Full linear convolution via FFT (length len(x) + len(kernel) - 1)."""
    n = len(x) + len(kernel) - 1
    nfft = 1 << max(1, (n - 1).bit_length())
    return np.fft.irfft(np.fft.rfft(x, nfft) * np.fft.rfft(kernel, nfft), nfft)[:n]


def lag(x: Array, tau_s: float, dt_s: float) -> Array:
    """First-order lag (thermal inertia) with time constant `tau_s`, starting in steady state."""
    if tau_s <= dt_s:
        return x.astype(float)
    a = math.exp(-dt_s / tau_s)
    length = math.ceil(7 * tau_s / dt_s)
    kernel = (1 - a) * a ** np.arange(length)
    kernel /= kernel.sum()
    padded = np.concatenate([np.full(length, x[0], dtype=float), x.astype(float)])
    return fft_convolve(padded, kernel)[length : length + len(x)]


def smooth_noise(rng: np.random.Generator, n: int, corr_s: float, dt_s: float, sd: float = 1.0) -> Array:
    """Slowly wandering zero-mean noise with correlation time `corr_s` and standard deviation `sd`."""
    steps = max(1, int(corr_s / dt_s))
    length = 5 * steps
    kernel = np.exp(-np.arange(length) / steps)
    kernel /= math.sqrt(float(np.sum(kernel**2)))
    white = rng.standard_normal(n + length)
    return sd * fft_convolve(white, kernel)[length : length + n]


def diurnal(hour: Array, peak_hour: float = 15.0) -> Array:
    """Daily cycle in [-1, 1], maximal at `peak_hour` local time."""
    return np.cos(2 * np.pi * (hour - peak_hour) / 24.0)


def sawtooth_phase(t: Array, period_s: float, offset_s: float) -> Array:
    """Phase in [0, 1) of a cycle of length `period_s`."""
    phase: Array = ((t - t[0] + offset_s) % period_s) / period_s
    return phase


def triangle(phase: Array) -> Array:
    """Triangle wave in [0, 1] for a phase in [0, 1)."""
    return 1.0 - np.abs(2.0 * phase - 1.0)

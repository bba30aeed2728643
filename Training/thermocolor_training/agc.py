"""The engine's automatic gain control (Sources/Imaging/GainControl.swift) in numpy.

The network must see what `thermocolor` feeds it: 8-bit grey after gain
control. 8-bit sources pass through unchanged unless the contrast stretch is
on; 16-bit sources go through one of three modes. Each class keeps the
smoothing state of one stream, like the Swift struct, so feed it frames in
order. tests/test_agc.py checks it against the engine on the same frames.
"""
from __future__ import annotations

import numpy as np


def _percentile_window(histogram: np.ndarray, total: int, tail: float) -> tuple[float, float]:
    ignored = int(np.floor(tail * total))
    # Lowest bin whose running count passes `ignored`, then the highest from the top.
    below = np.cumsum(histogram)
    low = int(np.searchsorted(below, ignored, side="right"))
    low = min(low, len(histogram) - 1)
    above = np.cumsum(histogram[::-1])
    high = len(histogram) - 1 - int(np.searchsorted(above, ignored, side="right"))
    high = max(high, low)
    return float(low), float(high)


class _LinearWindow:
    def __init__(self, tail: float, smoothing: float, maximum: int, minimum_span: float):
        self.tail, self.smoothing, self.maximum, self.minimum_span = tail, smoothing, maximum, minimum_span
        self.window: tuple[float, float] | None = None

    def update(self, histogram: np.ndarray, total: int) -> tuple[float, float]:
        low, high = _percentile_window(histogram, total, self.tail)
        if high - low < self.minimum_span:
            span = min(self.minimum_span, float(self.maximum))
            low = (low + high - span) / 2
            low = min(max(0.0, low), float(self.maximum) - span)
            high = low + span
        if self.window is not None:
            keep = self.smoothing
            low = keep * self.window[0] + (1 - keep) * low
            high = max(low, keep * self.window[1] + (1 - keep) * high)
        self.window = (low, high)
        return self.window


def _linear_table(window: tuple[float, float], maximum: int, size: int) -> np.ndarray:
    low, high = window
    gain = 255 / max(high - low, 1e-9)
    counts = np.arange(maximum + 1, dtype=np.float64)
    levels = np.clip(np.floor((counts - low) * gain + 0.5), 0, 255)
    first_inside = min(maximum + 1, max(0, int(np.ceil(low))))
    first_above = min(maximum + 1, max(first_inside, int(np.floor(high)) + 1))
    levels[:first_inside] = 0
    levels[first_above:] = 255
    table = np.full(size, 255, dtype=np.uint8)
    table[: maximum + 1] = levels.astype(np.uint8)
    return table


class AutomaticGainControl:
    """16-bit counts to 8-bit grey: modes `linear`, `plateau` and `none`."""

    def __init__(self, mode: str = "linear", significant_bits: int = 16, tail_rejection: float = 0.01,
                 plateau_limit: float = 4.0, smoothing: float = 0.9):
        if mode not in ("linear", "plateau", "none"):
            raise ValueError(f"gain control: unknown mode {mode!r}")
        if not 8 <= significant_bits <= 16:
            raise ValueError(f"gain control: significant bits must be 8-16, got {significant_bits}")
        self.mode, self.bits = mode, significant_bits
        self.tail, self.plateau_limit, self.smoothing = tail_rejection, plateau_limit, smoothing
        levels = 1 << significant_bits
        self._window = _LinearWindow(tail_rejection, smoothing, levels - 1, float(max(4, levels >> 10)))
        self._smoothed = np.zeros(levels, dtype=np.float32)
        self._has_history = False
        self.table = np.full(1 << 16, 255, dtype=np.uint8)
        if mode == "none":
            self.table[:levels] = (np.arange(levels) >> (significant_bits - 8)).astype(np.uint8)

    def reset(self) -> None:
        self._window.window = None
        self._has_history = False

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame, dtype=np.uint16)
        levels = 1 << self.bits
        if frame.size and self.mode != "none":
            histogram = np.bincount(np.minimum(frame.ravel(), levels - 1), minlength=levels).astype(np.int64)
            if self.mode == "linear":
                window = self._window.update(histogram, frame.size)
                self.table = _linear_table(window, levels - 1, 1 << 16)
            else:
                self._update_plateau(histogram, frame.size)
        return self.table[frame]

    def _update_plateau(self, histogram: np.ndarray, total: int) -> None:
        blend = np.float32(self.smoothing if self._has_history else 0)
        self._has_history = True
        occupied = int(np.count_nonzero(histogram))
        plateau = max(1, round_half_away(self.plateau_limit * total / occupied))
        clipped = np.minimum(histogram, plateau).astype(np.float64)
        scale = 255 / clipped.sum()
        below = np.concatenate([[0.0], np.cumsum(clipped)[:-1]])
        level = ((2 * below + clipped) * 0.5 * scale).astype(np.float32)
        self._smoothed = (blend * self._smoothed + (np.float32(1) - blend) * level).astype(np.float32)
        table = np.minimum(np.float32(255), self._smoothed + np.float32(0.5)).astype(np.uint8)
        self.table = np.full(1 << 16, 255, dtype=np.uint8)
        self.table[: len(table)] = table


def round_half_away(value: float) -> int:
    """Swift's `.rounded()` (half away from zero), not Python's banker's rounding."""
    return int(np.floor(value + 0.5)) if value >= 0 else -int(np.floor(-value + 0.5))


class ContrastStretch:
    """The optional stretch for 8-bit sources (`--stretch`): linear mode on 256 levels."""

    def __init__(self, tail_rejection: float = 0.01, smoothing: float = 0.9):
        self._window = _LinearWindow(tail_rejection, smoothing, 255, 16.0)

    def __call__(self, gray: np.ndarray) -> np.ndarray:
        gray = np.asarray(gray, dtype=np.uint8)
        if gray.size:
            histogram = np.bincount(gray.ravel(), minlength=256)
            self.table = _linear_table(self._window.update(histogram, gray.size), 255, 256)
        return self.table[gray]


def engine_input(frame: np.ndarray, mode: str = "linear", significant_bits: int = 16) -> np.ndarray:
    """What the engine feeds a network for one still frame: 8-bit grey."""
    frame = np.asarray(frame)
    if frame.dtype == np.uint8:
        return frame
    return AutomaticGainControl(mode, significant_bits)(frame)

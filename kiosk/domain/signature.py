"""A drawn signature as data, and the check that refuses an empty or trivial one."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

Point = tuple[float, float]
Stroke = tuple[Point, ...]

MIN_POINTS = 12
MIN_PATH_FRACTION = 0.35  # of the pad's width: a real signature travels at least this far
MIN_EXTENT_FRACTION = 0.12  # of the pad's width: a dot or a tiny tick is refused


@dataclass(frozen=True)
class DrawnSignature:
    """Strokes in pad coordinates, the pad's size, and the rendered PNG."""

    strokes: tuple[Stroke, ...]
    width: float
    height: float
    png: bytes = b""

    @property
    def point_count(self) -> int:
        return sum(len(stroke) for stroke in self.strokes)

    @property
    def path_length(self) -> float:
        return sum(
            math.dist(a, b) for stroke in self.strokes for a, b in itertools.pairwise(stroke)
        )

    def is_trivial(self) -> bool:
        """True for an empty pad, a tap, a dot or a short tick: not a signature."""
        if self.point_count < MIN_POINTS or self.width <= 0:
            return True
        xs = [x for stroke in self.strokes for x, _ in stroke]
        ys = [y for stroke in self.strokes for _, y in stroke]
        extent = max(max(xs) - min(xs), max(ys) - min(ys))
        return (
            self.path_length < MIN_PATH_FRACTION * self.width
            or extent < MIN_EXTENT_FRACTION * self.width
        )

    def strokes_json(self) -> list[list[list[float]]]:
        """Strokes as plain lists, rounded to 0.1 px, for storage."""
        return [[[round(x, 1), round(y, 1)] for x, y in stroke] for stroke in self.strokes]

"""The drawn-signature check: empty, dots and ticks are refused; a real scribble is not."""

from __future__ import annotations

import math

import pytest

from kiosk.domain.signature import DrawnSignature, Point, Stroke

WIDTH, HEIGHT = 600.0, 200.0


def line(start: Point, end: Point, points: int) -> Stroke:
    (x0, y0), (x1, y1) = start, end
    return tuple(
        (x0 + (x1 - x0) * i / (points - 1), y0 + (y1 - y0) * i / (points - 1))
        for i in range(points)
    )


def pad(*strokes: Stroke, width: float = WIDTH) -> DrawnSignature:
    return DrawnSignature(tuple(strokes), width=width, height=HEIGHT)


def test_empty_pad_is_trivial() -> None:
    assert pad().is_trivial()
    assert pad((), ()).is_trivial()


def test_a_tap_is_trivial() -> None:
    assert pad(((300.0, 100.0),)).is_trivial()


def test_a_dot_of_many_points_is_trivial() -> None:
    # A finger resting on the pad: plenty of points, all within a pixel or two.
    dot = tuple((300.0 + (i % 2), 100.0 + (i % 3) * 0.5) for i in range(40))
    assert pad(dot).is_trivial()


def test_a_short_tick_is_trivial() -> None:
    tick = line((300.0, 100.0), (310.0, 110.0), 8) + line((310.0, 110.0), (330.0, 80.0), 8)
    assert pad(tick).is_trivial()


def test_a_long_scrawl_inside_a_tiny_box_is_trivial() -> None:
    # Travels far (zig-zags back and forth) but never leaves a 40×40 box: not a signature.
    zigzag = tuple((300.0 + 40.0 * (i % 2), 100.0 + i * 0.5) for i in range(80))
    signature = pad(zigzag)
    assert signature.path_length > WIDTH  # the path is long ...
    assert signature.is_trivial()  # ... but the extent is tiny


def test_a_straight_short_flick_with_enough_points_is_trivial() -> None:
    # 60 px on a 600 px pad: too short a path and too small an extent.
    assert pad(line((100.0, 100.0), (160.0, 100.0), 30)).is_trivial()


def test_taps_far_apart_are_trivial() -> None:
    # A wide extent but almost no path drawn: two resting fingertips at opposite ends.
    left = tuple((50.0 + (i % 2), 100.0) for i in range(8))
    right = tuple((550.0, 100.0 + (i % 2)) for i in range(8))
    signature = pad(left, right)
    assert signature.point_count >= 12
    assert signature.is_trivial()


def test_a_pad_without_width_is_trivial(scribble: DrawnSignature) -> None:
    assert DrawnSignature(scribble.strokes, width=0.0, height=HEIGHT).is_trivial()


def test_a_realistic_scribble_is_not_trivial(scribble: DrawnSignature) -> None:
    assert len(scribble.strokes) == 3
    assert not scribble.is_trivial()


def test_a_handwritten_name_with_dot_and_crossbar_is_not_trivial() -> None:
    loops = tuple(
        (60.0 + 4.0 * i + 20.0 * math.cos(i / 3.0), 110.0 + 30.0 * math.sin(i / 3.0))
        for i in range(90)
    )
    crossbar = line((150.0, 80.0), (230.0, 78.0), 10)
    dot = ((420.0, 60.0),)
    signature = pad(loops, crossbar, dot)
    assert not signature.is_trivial()


def test_the_same_scribble_is_trivial_on_a_much_wider_pad(scribble: DrawnSignature) -> None:
    # The thresholds are fractions of the pad's width.
    wide = DrawnSignature(scribble.strokes, width=scribble.width * 20, height=HEIGHT)
    assert wide.is_trivial()


def test_point_count_and_path_length() -> None:
    signature = pad(((0.0, 0.0), (3.0, 4.0), (3.0, 10.0)), ((100.0, 100.0), (100.0, 90.0)))
    assert signature.point_count == 5
    # Strokes are not joined: 5 + 6 inside the first, 10 inside the second.
    assert signature.path_length == pytest.approx(21.0)


def test_strokes_json_rounds_to_a_tenth(scribble: DrawnSignature) -> None:
    signature = pad(((1.234, 5.678), (9.99, 0.04)), ((2.0, 3.0),))
    assert signature.strokes_json() == [[[1.2, 5.7], [10.0, 0.0]], [[2.0, 3.0]]]
    assert len(scribble.strokes_json()) == 3

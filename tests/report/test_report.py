from __future__ import annotations

from medadapt.report.render import moving_average


def test_moving_average_is_trailing_and_keeps_length():
    assert moving_average([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    assert moving_average([2.0], 5) == [2.0]

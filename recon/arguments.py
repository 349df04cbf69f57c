"""Numeric command-line values, checked as argparse parses them: finite, of the right kind, within range."""

from __future__ import annotations

import argparse
import math

SEED_MAX = 2**32 - 1


def number(kind: type = float, low: float | None = None, high: float | None = None, above: float | None = None):
    """An argparse `type`: `kind` (int or float), finite, >= low, > above, <= high."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}")
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"{text} is below the minimum {low:g}")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"{text} must be greater than {above:g}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{text} is above the maximum {high:g}")
        return value

    parse.__name__ = kind.__name__
    return parse


SEED = number(int, 0, SEED_MAX)
COUNT = number(int, 1)

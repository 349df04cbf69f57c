"""The one interface every reconstruction method follows: a dataclass of parameters with `iterate(problem)`,
a generator of `Iterate`s. The last iterate is the answer. Closing the generator stops the work."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar, Iterator

import numpy as np

from ..problem import Problem


@dataclass
class Iterate:
    step: int  # 1-based
    total: int
    image: np.ndarray  # (frames, y, x) complex64, in the input's units
    extras: dict = field(default_factory=dict)  # e.g. {"residual": float, "uncertainty": ndarray}


@dataclass
class Method:
    """Base for methods. Subclasses are dataclasses whose fields are the user-facing parameters.

    A field's metadata may hold "help" (one line), "min"/"max" and "choices" (for the widget and the CLI).
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def iterate(self, problem: Problem) -> Iterator[Iterate]:
        raise NotImplementedError

    def run(self, problem: Problem) -> Iterate:
        """Drive the generator to the end and return the last iterate."""
        last = None
        for last in self.iterate(problem):
            pass
        return last

    def parameters(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def param(default, help: str, **limits):
    """A method parameter with its one-line help and optional limits (min, max) or choices (a tuple)."""
    return field(default=default, metadata={"help": help, **limits})

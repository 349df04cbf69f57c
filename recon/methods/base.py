"""The one interface every reconstruction method follows: a dataclass of parameters with `iterate(problem)`,
a generator of `Iterate`s. The last iterate is the answer. Closing the generator stops the work."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar, Iterator

import numpy as np

from ..problem import Problem


@dataclass
class Iterate:
    step: int  # 1-based; 0 for a phase announcement (extras["phase"]), which is not an estimate of the answer
    total: int
    image: np.ndarray | None  # (frames, y, x) complex64, in the input's units; None only in a phase announcement
    extras: dict = field(default_factory=dict)  # e.g. {"residual": float, "uncertainty": ndarray, "phase": str}

    @property
    def phase(self) -> str | None:
        """What the method is doing before its steps ("loading model", "fine-tuning …"), or None for a step."""
        return self.extras.get("phase") if self.step == 0 else None


def announce(text: str, total: int, image: np.ndarray | None = None, **extras) -> Iterate:
    """A phase announcement a method yields before work without steps (loading a model, fine-tuning), so a
    front end can say what is happening and a consumer can stop there. `image`: an estimate to show meanwhile."""
    return Iterate(0, total, image, {"phase": text, **extras})


@dataclass
class Method:
    """Base for methods. Subclasses are dataclasses whose fields are the user-facing parameters.

    A field's metadata may hold "help" (one line), "min"/"max" and "choices" (for the widget and the CLI).
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    step_name: ClassVar[str] = "iteration"  # what a front end calls one step ("sampling step" for diffusion)
    # set by recon.pipeline.run: yield phase announcements (step-0 iterates, see `announce`) before slow work
    # without steps; plain consumers of `iterate` see estimates only
    announce_phases: ClassVar[bool] = False

    def iterate(self, problem: Problem) -> Iterator[Iterate]:
        raise NotImplementedError

    def weight_files(self) -> dict[str, str]:
        """Parameter name -> the trained-weights file this method reads (defaults resolved); {} if none."""
        return {}

    def for_problem(self, problem: Problem) -> "Method":
        """The method as it runs on `problem`: the same, unless a parameter's 'auto' resolves by the data."""
        return self

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


def default_of(base: type, name: str, default):
    """`base`'s parameter `name` (help, limits) with another default, for a subclass that re-tunes it."""
    return field(default=default, metadata=base.__dataclass_fields__[name].metadata)

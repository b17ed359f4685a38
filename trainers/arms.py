"""The arms of a study, declared once: what each one sweeps, trains, samples and is called.

Every consumer reads this registry: config validation and the grid (`study.config`,
`study.plan`), the trial job (`trainers.job`), the pair sampler (`trainers.sampler`, through the
arm's sampler rule in `trainers.sampler_rules`), the trial set-up (`trainers.run_setup`),
`study inspect-batches`, and the results table (`label` and `is_baseline` columns, which is how
the analysis tells baselines from the method under study without knowing arm names).
Adding an arm is one `register_arm` call (plus a sampler rule if no existing one fits); see
docs/extending.md.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from trainers.errors import InputError

Grid = Literal["sizes x alphas x seeds", "sizes x seeds", "once"]


@dataclass(frozen=True)
class Arm:
    """One arm of a study and everything the engine needs to know about it."""

    name: str
    label: str  # legend and table name, e.g. "CLIP (en)"
    grid: Grid  # which trials the arm contributes
    trains: bool  # False: a given model is evaluated as is (no data, no steps)
    sampler: str | None  # rule of trainers.sampler_rules; None for arms that do not train
    text_text: bool  # trains text-text pairs (L_tt) besides image-text ones
    baseline: bool  # compared against, not studied
    language: str | None = None  # a training language the arm cannot do without

    @property
    def sweeps_alpha(self) -> bool:
        """Whether the arm has one trial per mix ratio."""
        return self.grid == "sizes x alphas x seeds"

    @property
    def sized(self) -> bool:
        """Whether the arm's trials train on a data size N (else they are evaluated once)."""
        return self.grid != "once"


_ARMS: dict[str, Arm] = {}


def register_arm(arm: Arm) -> Arm:
    """Add an arm to the registry (a second arm of the same name replaces the first)."""
    if arm.trains != (arm.sampler is not None) or arm.trains != arm.sized:
        raise ValueError(
            f"arm '{arm.name}': an arm that trains needs a sampler rule and a sized grid, "
            "and one that does not train needs neither"
        )
    _ARMS[arm.name] = arm
    return arm


def arm_names() -> tuple[str, ...]:
    """Every registered arm, in registration order."""
    return tuple(_ARMS)


def get_arm(name: str) -> Arm:
    """The registered arm called `name`, or an InputError naming the known ones."""
    if name in _ARMS:
        return _ARMS[name]
    close = difflib.get_close_matches(str(name), list(_ARMS), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise InputError(f"unknown arm '{name}': {hint}arms are {', '.join(_ARMS)}")


register_arm(
    Arm("hybrid", "hybrid", "sizes x alphas x seeds", trains=True, sampler="hybrid",
        text_text=True, baseline=False)
)  # fmt: skip
register_arm(
    Arm("clip", "CLIP", "sizes x seeds", trains=True, sampler="mixed-language",
        text_text=False, baseline=True)
)  # fmt: skip
register_arm(
    Arm("clip-en", "CLIP (en)", "sizes x seeds", trains=True, sampler="one-language",
        text_text=False, baseline=True, language="en")
)  # fmt: skip
register_arm(
    Arm("pretrained", "pretrained", "once", trains=False, sampler=None, text_text=False,
        baseline=True)
)  # fmt: skip

"""One line naming why a trial failed, from the error text Ray Tune keeps (`error.txt`)."""

from __future__ import annotations

import re

MAX_CHARS = 500
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# `pkg.module.NameError: message` or `ray.exceptions.RayTaskError(Inner): message`.
_HEADER = re.compile(
    r"^(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*(?:Error|Exception|Interrupt|Exit))(?:\([\w.]*\))?:\s?(.*)$"
)
_VALIDATION = re.compile(r"^\d+ validation errors? for (\w+)$")
_RULE = re.compile(r"^(.*?)\s*\[type=\w+(?:, input_value=(.*?), input_type=\w+)?\]$")


def _validation_causes(lines: list[str]) -> list[str]:
    """`field: rule (got value)` of each error of pydantic's block (after its header line)."""
    causes, field = [], None
    for line in lines:
        rule = _RULE.match(line)
        if rule:
            got = f" (got {rule.group(2)})" if rule.group(2) and field else ""
            causes.append(f"{field}: {rule.group(1)}{got}" if field else rule.group(1))
            field = None
        elif not line.startswith("For further information"):
            field = line
    return causes


def error_line(text: str) -> str:
    """The last exception of a traceback as `Name: message`, colours and module paths removed.

    A pydantic ValidationError becomes `ValidationError: Model: field: rule (got value)`, not
    its documentation URL; text without a recognisable exception gives its last line.
    """
    lines = [ln.strip() for ln in _ANSI.sub("", text).splitlines() if ln.strip()]
    if not lines:
        return "the error file is empty"
    for i in range(len(lines) - 1, -1, -1):
        header = _HEADER.match(lines[i])
        if header is None:
            continue
        name, message = header.groups()
        model = _VALIDATION.match(message)
        if model:
            message = f"{model.group(1)}: " + "; ".join(_validation_causes(lines[i + 1 :]))
        return f"{name}: {message}"[:MAX_CHARS]
    return lines[-1][:MAX_CHARS]

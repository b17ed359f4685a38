"""Config errors in plain words: what a key expects (not pydantic's phrasing), and an error a
`--set key=value` flag caused named by that flag, with the value written the YAML way."""

from __future__ import annotations

from typing import Any

# What a key wants, by pydantic error type.
_EXPECTS = {
    "list_type": "a list",
    "tuple_type": "a list",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a text value",
    "dict_type": "a section of keys",
    "model_type": "a section of keys",
    "model_attributes_type": "a section of keys",
}
# Bounds and choices, by pydantic error type: the words and the context key holding the limit.
_LIMITS = {
    "greater_than": ("a value > {}", "gt"),
    "greater_than_equal": ("a value >= {}", "ge"),
    "less_than": ("a value < {}", "lt"),
    "less_than_equal": ("a value <= {}", "le"),
    "too_short": ("at least {} item(s)", "min_length"),
    "literal_error": ("one of {}", "expected"),
    "string_pattern_mismatch": ("a value matching {}", "pattern"),
}
_LISTS = ("list_type", "tuple_type")


def plain_message(err: dict) -> str:
    """`expected a list, got '0,1'` for type and bound errors; a validator's own message else."""
    if err["type"] in _EXPECTS:
        want = _EXPECTS[err["type"]]
    elif err["type"] in _LIMITS and err.get("ctx", {}).get(_LIMITS[err["type"]][1]) is not None:
        words, ctx_key = _LIMITS[err["type"]]
        want = words.format(err["ctx"][ctx_key])
    else:
        return err["msg"].removeprefix("Value error, ")
    got = repr(err["input"])
    return f"expected {want}, got {got if len(got) <= 40 else got[:37] + '...'}"


def override_for(overrides: dict[tuple[str, ...], str], loc: tuple) -> str | None:
    """The `key=value` of the last `--set` that set `loc` or a section holding it, if any."""
    path = tuple(str(part) for part in loc)
    for key, assignment in reversed(overrides.items()):
        if path[: len(key)] == key:
            return assignment
    return None


def yaml_list(value: Any) -> str:
    """A value meant as a list, the YAML way: '0,1' -> '[0, 1]', 5 -> '[5]'."""
    parts = str(value).split(",") if isinstance(value, str) else [str(value)]
    return "[" + ", ".join(part.strip() for part in parts) + "]"


def describe_override(assignment: str, key: str, err: dict, message: str) -> str:
    """The one-line error of a `--set` flag: `--set sweep.seeds=0,1: sweep.seeds: expected a
    list, got '0,1'; write it the YAML way: --set sweep.seeds=[0, 1]`."""
    text = f"--set {assignment}: {key}: {message}"
    flag_key = assignment.split("=", 1)[0].strip()
    if err["type"] in _LISTS and key == flag_key:
        text += f"; write it the YAML way: --set {flag_key}={yaml_list(err['input'])}"
    return text

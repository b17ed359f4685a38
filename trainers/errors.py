"""User-facing input errors raised by the trainers package."""


class InputError(ValueError):
    """A bad input: the message is one line naming what, where, and the fix."""


def describe_validation(exc) -> str:
    """A pydantic ValidationError as one line: each field and the rule it broke, no URL."""
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        if err["loc"] and err["type"] != "missing" and not isinstance(given, (dict, list)):
            msg += f" (got {given!r})"
        parts.append(f"{key}: {msg}")
    return "; ".join(parts)

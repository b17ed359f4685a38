"""User-facing input errors raised by the analysis package."""


class InputError(ValueError):
    """A bad input: the message is one line naming what, where, and the fix."""

"""User-facing input errors raised by the trainers package."""


class InputError(ValueError):
    """A bad input: the message is one line naming what, where, and the fix."""

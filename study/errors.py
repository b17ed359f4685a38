"""User-facing errors raised by the study package."""


class StudyError(ValueError):
    """A bad input: the message is one line naming what, where, and the fix."""

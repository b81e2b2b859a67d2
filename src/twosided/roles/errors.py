"""The one error type of ``twosided.roles``: bad input, described in one clear line."""

from twosided.scenario import one_line


class RolesError(ValueError):
    """A business-model file, run or table that cannot be used; the message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))

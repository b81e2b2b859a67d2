"""The one error type of ``twosided.roles``: bad input, described in one clear line."""


class RolesError(ValueError):
    """A business-model file, run or table that cannot be used; the message is one line."""

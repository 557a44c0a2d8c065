"""The one exception type our commands turn into a clean error message."""


class WeakDatasetError(ValueError):
    """Bad input: the message names the case and says how to fix it."""

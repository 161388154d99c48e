"""The one exception the readers raise."""


class SkipFile(Exception):
    """A file that cannot be ingested; the message is the one-line reason shown to the user."""

"""Errors the domain raises; entrypoints map them to HTTP status codes."""


class RapportError(Exception):
    """Base class for every error this service raises on purpose."""


class InvalidPhoneError(RapportError, ValueError):
    """A phone number that cannot be read as a real E.164 number."""


class ConcurrentUpdateError(RapportError):
    """Someone else changed the record between our read and our write."""

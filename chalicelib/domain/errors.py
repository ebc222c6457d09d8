"""Errors the domain raises; entrypoints map them to HTTP status codes."""


class RapportError(Exception):
    """Base class for every error this service raises on purpose."""


class InvalidPhoneError(RapportError, ValueError):
    """A phone number that cannot be read as a real E.164 number."""


class ConcurrentUpdateError(RapportError):
    """Someone else changed the record between our read and our write."""


class TextAlreadyAppliedError(RapportError):
    """This inbound text (its MessageSid) has changed the contact before: a retried webhook."""


class ProfileNeededError(RapportError):
    """The text's effect depends on the profile (a question awaits its answer, or
    the number must be marked reachable again): read the contact, then write."""


class LostLeaseError(RapportError):
    """Another sender took over this text's ledger entry: this one must not write its outcome."""


class RunTrippedError(RapportError):
    """The run's breaker tripped before, or an operator resumed it since: it trips once."""


class MarketingTakenError(RapportError):
    """Another text took the contact's marketing slot first (two runs at once)."""


class LookupUnavailableError(RapportError):
    """Twilio could not be asked what it sent."""

"""The project's error tree, grouped by what the caller should do about it.

::

    BridgeError
    ├── RetryableError            try the same call again later
    │   ├── RateLimited           the remote asked us to slow down (retry_after seconds)
    │   └── TransientError        5xx, connection reset, timeout
    ├── FatalError                stop this run; a person must act
    │   ├── ConfigError           the configuration is wrong or incomplete
    │   ├── AuthError             credentials refused (wrong password, revoked token, unknown site)
    │   ├── ProtocolError         the remote broke its own contract (endless paging, bad XML)
    │   └── RemoteError           the remote refused the call as a whole, with its own message
    └── RecordError               skip this record, keep the batch going (dead-letter it)
        └── NotFound              the record asked for does not exist

Foreign exceptions (zeep, requests, lxml, spyne) are translated once, at the adapter that
meets them, with ``raise ... from``. Messages never contain secrets.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error the project raises on purpose."""

    def __init__(self, message: str, *, system: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.system = system

    def __str__(self) -> str:
        return f"[{self.system}] {self.message}" if self.system else self.message


class RetryableError(BridgeError):
    """The same call may succeed later."""


class RateLimited(RetryableError):
    def __init__(
        self, message: str, *, retry_after: float | None = None, system: str | None = None
    ) -> None:
        super().__init__(message, system=system)
        self.retry_after = retry_after


class TransientError(RetryableError):
    """A server error or a network failure."""


class FatalError(BridgeError):
    """Retrying will not help; the run stops."""


class ConfigError(FatalError):
    pass


class AuthError(FatalError):
    pass


class ProtocolError(FatalError):
    """The remote misbehaves: endless paging, repeated pages, unparsable answers."""


class RemoteError(FatalError):
    """The remote refused a call with a message of its own (a SOAP fault, an error body)."""

    def __init__(
        self,
        message: str,
        *,
        system: str | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, system=system)
        self.code = code
        self.status = status


class RecordError(BridgeError):
    """One record was refused; the rest of its batch goes on."""

    def __init__(
        self,
        message: str,
        *,
        system: str | None = None,
        code: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, system=system)
        self.code = code
        self.field = field


class NotFound(RecordError):
    pass

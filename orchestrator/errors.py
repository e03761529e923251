"""ripple's one error root, with a branch per subsystem.

Errors that reach a user say what was wrong, where, and what to do. Errors that reach an
invoker over the Lambda API carry AWS's error code and HTTP status. The tracing library below
ripple has a root of its own, `tracing.errors.TracingError` (it imports nothing of ripple).
"""

from __future__ import annotations


class RippleError(Exception):
    """The root of every error ripple raises on purpose."""


class SpecError(RippleError):
    """A spec file that cannot be deployed: names the file, the field and why."""

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file = file
        self.field = field
        self.reason = reason
        where = f"{file}: {field}" if field else file
        super().__init__(f"{where}: {reason}")


class SettingsError(RippleError):
    """A configuration variable ripple cannot use: names the variable, its value and why."""


class ArchiveError(RippleError):
    """A code archive that cannot be unpacked safely."""


class RedisServerError(RippleError):
    """The embedded Redis server could not be started."""


class AwsError(RippleError):
    """An error answered to an AWS client in AWS's shape (code, status, message)."""

    code = "ServiceException"
    status = 500

    def __init__(self, message: str, **extra: str) -> None:
        self.message = message
        self.extra = extra
        super().__init__(message)


class ResourceNotFound(AwsError):
    code = "ResourceNotFoundException"
    status = 404


class InvalidParameterValue(AwsError):
    code = "InvalidParameterValueException"
    status = 400


class ResourceConflict(AwsError):
    code = "ResourceConflictException"
    status = 409


class PreconditionFailed(AwsError):
    code = "PreconditionFailedException"
    status = 412


class InvalidRequestContent(AwsError):
    code = "InvalidRequestContentException"
    status = 400


class RequestTooLarge(AwsError):
    code = "RequestTooLargeException"
    status = 413


class TooManyRequests(AwsError):
    code = "TooManyRequestsException"
    status = 429


class AccessDenied(AwsError):
    code = "AccessDeniedException"
    status = 403

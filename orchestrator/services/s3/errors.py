"""S3's errors: AWS's codes, statuses and messages, answered as `<Error>` XML documents.

The details (`BucketName`, `Key`, `Method`, …) become elements of the document, as on AWS.
"""

from __future__ import annotations

from orchestrator.errors import AwsError


class S3Error(AwsError):
    """Any error answered to an S3 client; keyword details become elements of `<Error>`."""

    code = "InternalError"
    status = 500
    default_message = "We encountered an internal error. Please try again."

    def __init__(self, message: str | None = None, **details: str) -> None:
        super().__init__(message or self.default_message, **details)


class NoSuchBucket(S3Error):
    code = "NoSuchBucket"
    status = 404
    default_message = "The specified bucket does not exist"


class NoSuchKey(S3Error):
    code = "NoSuchKey"
    status = 404
    default_message = "The specified key does not exist."


class BucketNotEmpty(S3Error):
    code = "BucketNotEmpty"
    status = 409
    default_message = "The bucket you tried to delete is not empty"


class BucketAlreadyOwnedByYou(S3Error):
    code = "BucketAlreadyOwnedByYou"
    status = 409
    default_message = ("Your previous request to create the named bucket succeeded and you "
                       "already own it.")


class InvalidBucketName(S3Error):
    code = "InvalidBucketName"
    status = 400
    default_message = "The specified bucket is not valid."


class MalformedXML(S3Error):
    code = "MalformedXML"
    status = 400
    default_message = ("The XML you provided was not well-formed or did not validate against "
                       "our published schema")


class InvalidArgument(S3Error):
    code = "InvalidArgument"
    status = 400
    default_message = "Invalid Argument"


class InvalidRequest(S3Error):
    code = "InvalidRequest"
    status = 400
    default_message = "Invalid Request"


class InvalidRange(S3Error):
    code = "InvalidRange"
    status = 416
    default_message = "The requested range is not satisfiable"


class EntityTooLarge(S3Error):
    code = "EntityTooLarge"
    status = 400
    default_message = "Your proposed upload exceeds the maximum allowed size"


class KeyTooLong(S3Error):
    code = "KeyTooLongError"
    status = 400
    default_message = "Your key is too long"


class IncompleteBody(S3Error):
    code = "IncompleteBody"
    status = 400
    default_message = ("You did not provide the number of bytes specified by the Content-Length "
                       "HTTP header")


class InvalidDigest(S3Error):
    code = "InvalidDigest"
    status = 400
    default_message = "The Content-MD5 you specified was invalid."


class BadDigest(S3Error):
    code = "BadDigest"
    status = 400
    default_message = "The Content-MD5 you specified did not match what we received."


class PreconditionFailed(S3Error):
    code = "PreconditionFailed"
    status = 412
    default_message = "At least one of the pre-conditions you specified did not hold"


class MethodNotAllowed(S3Error):
    code = "MethodNotAllowed"
    status = 405
    default_message = "The specified method is not allowed against this resource."


class NotImplementedOperation(S3Error):
    """An S3 operation ripple does not simulate (yet): says which one."""

    code = "NotImplemented"
    status = 501
    default_message = "A header you provided implies functionality that is not implemented"


class InternalError(S3Error):
    pass

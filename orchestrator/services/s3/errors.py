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
        self.headers: dict[str, str] = {}  # response headers (x-amz-delete-marker, …)

    def with_headers(self, **headers: str) -> S3Error:
        self.headers.update({name.replace("_", "-"): value for name, value in headers.items()})
        return self


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


class NoSuchUpload(S3Error):
    code = "NoSuchUpload"
    status = 404
    default_message = ("The specified upload does not exist. The upload ID may be invalid, or "
                       "the upload may have been aborted or completed.")


class InvalidPart(S3Error):
    code = "InvalidPart"
    status = 400
    default_message = ("One or more of the specified parts could not be found. The part may not "
                       "have been uploaded, or the specified entity tag may not match the "
                       "part's entity tag.")


class InvalidPartOrder(S3Error):
    code = "InvalidPartOrder"
    status = 400
    default_message = ("The list of parts was not in ascending order. Parts must be ordered by "
                       "part number.")


class EntityTooSmall(S3Error):
    code = "EntityTooSmall"
    status = 400
    default_message = "Your proposed upload is smaller than the minimum allowed object size."


class NoSuchVersion(S3Error):
    code = "NoSuchVersion"
    status = 404
    default_message = "The specified version does not exist."


class NoSuchTagSet(S3Error):
    code = "NoSuchTagSet"
    status = 404
    default_message = "The TagSet does not exist"


class InvalidTag(S3Error):
    code = "InvalidTag"
    status = 400
    default_message = "The TagValue you have provided is invalid"


class InvalidStorageClass(S3Error):
    code = "InvalidStorageClass"
    status = 400
    default_message = "The storage class you specified is not valid"


class BadRequest(S3Error):
    code = "BadRequest"
    status = 400
    default_message = "Bad Request"


class IllegalVersioningConfiguration(S3Error):
    code = "IllegalVersioningConfigurationException"
    status = 400
    default_message = "The Versioning element must be specified"


class InternalError(S3Error):
    pass

"""DynamoDB's errors, in the JSON 1.0 shape botocore parses: `__type` and `message`, status 400."""

from __future__ import annotations

from typing import Any

from orchestrator.errors import AwsError

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class DynamoDBError(AwsError):
    """Any DynamoDB error answered to a client; `details` are extra members of the body."""

    code = "InternalServerError"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"__type": ERROR_PREFIX + self.code, "message": self.message, **self.details}


class ValidationError(DynamoDBError):
    code = "ValidationException"


class SerializationError(DynamoDBError):
    code = "SerializationException"


class UnknownOperation(DynamoDBError):
    code = "UnknownOperationException"


class ResourceNotFound(DynamoDBError):
    code = "ResourceNotFoundException"


class ResourceInUse(DynamoDBError):
    code = "ResourceInUseException"


class ConditionalCheckFailed(DynamoDBError):
    """A ConditionExpression evaluated false; `Item` is the old item when it was asked for."""

    code = "ConditionalCheckFailedException"

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        details = {"Item": item} if item is not None else {}
        super().__init__("The conditional request failed", **details)


class TransactionCanceled(DynamoDBError):
    """A transaction wrote nothing; one reason per request item, in request order."""

    code = "TransactionCanceledException"

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        codes = ", ".join(reason["Code"] for reason in reasons)
        super().__init__("Transaction cancelled, please refer cancellation reasons for specific "
                         f"reasons [{codes}]", CancellationReasons=reasons)


class TransactionConflict(DynamoDBError):
    code = "TransactionConflictException"


class InternalServerError(DynamoDBError):
    code = "InternalServerError"
    status = 500


class TrimmedDataAccess(DynamoDBError):
    code = "TrimmedDataAccessException"


class ExpiredIterator(DynamoDBError):
    code = "ExpiredIteratorException"


class DuplicateItem(DynamoDBError):
    code = "DuplicateItemException"

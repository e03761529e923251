"""Errors answered in the shape AWS's REST-JSON services use, so botocore parses them."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from orchestrator.errors import AwsError


async def aws_error_handler(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AwsError)
    return aws_error_response(error)


def aws_error_response(error: AwsError) -> JSONResponse:
    body = {"Type": "User", "message": error.message, **error.extra}
    return JSONResponse(body, status_code=error.status,
                        headers={"x-amzn-ErrorType": error.code})

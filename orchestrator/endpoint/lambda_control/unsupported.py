"""Every other Lambda operation (layers, provisioned concurrency, code signing, …): an answer
in Lambda's error shape that names what is not supported, instead of a bare 404 a client
cannot read. Included last, so it only catches what no module answers."""

from __future__ import annotations

from fastapi import APIRouter, Request

from orchestrator.errors import AwsError

router = APIRouter()
# The date prefixes of Lambda's REST paths (botocore's service model): nothing else uses them.
API_VERSIONS = ("2014-11-13", "2015-03-31", "2016-08-19", "2017-03-31", "2017-10-31",
                "2018-10-31", "2019-09-25", "2019-09-30", "2020-04-22", "2020-06-30",
                "2021-07-20", "2021-10-31", "2021-11-15", "2024-08-31", "2025-11-30",
                "2025-12-01", "2026-07-09")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


class UnsupportedOperation(AwsError):
    code = "UnsupportedOperationException"
    status = 400


async def unsupported(request: Request) -> None:
    raise UnsupportedOperation(f"ripple does not support this Lambda operation "
                               f"({request.method} {request.url.path}); see the README's "
                               "Lambda control plane section for what it answers")


for _version in API_VERSIONS:
    router.add_api_route(f"/{_version}/{{rest:path}}", unsupported, methods=METHODS,
                         include_in_schema=False)

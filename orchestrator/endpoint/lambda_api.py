"""Lambda's Invoke REST API (POST /2015-03-31/functions/{name}/invocations), and the control
plane's routes (`lambda_control/`) under the same router.

Invoke is every load test's hot path, so `InvokeFastPath` answers it as plain ASGI ahead of
FastAPI's router (whose matching through the included routers cost a quarter of the
endpoint's CPU per invocation); the FastAPI route below answers the same way, for the API
docs and for apps built without the fast path."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.types import Receive, Scope, Send

from orchestrator.endpoint.aws_errors import aws_error_response
from orchestrator.endpoint.lambda_control import router as control_router
from orchestrator.errors import AwsError
from orchestrator.invocations.invoke import InvokeService, function_name
from orchestrator.services.calls import name_operation

router = APIRouter()
PREFIX, SUFFIX = "/2015-03-31/functions/", "/invocations"


async def answer(service: InvokeService, name: str, body: bytes, headers: Mapping[str, str],
                 qualifier: str | None) -> Response:
    """Invoke's answer, in Lambda's headers (raises `AwsError` as Lambda would answer)."""
    name_operation("Lambda", "Invoke", {"faas.invoked_name": function_name(name)})
    result = await service.invoke(
        name, body,
        invocation_type=headers.get("x-amz-invocation-type", "RequestResponse"),
        tail_log=headers.get("x-amz-log-type", "None") == "Tail",
        client_context=headers.get("x-amz-client-context", ""),
        qualifier=qualifier,
    )
    answer = {"x-amzn-RequestId": result.request_id,
              "X-Amz-Executed-Version": result.executed_version}
    if result.function_error:
        answer["X-Amz-Function-Error"] = result.function_error
    if result.log_tail:
        answer["X-Amz-Log-Result"] = result.log_tail
    return Response(result.payload, status_code=result.status, headers=answer,
                    media_type="application/json")


@router.post("/2015-03-31/functions/{name}/invocations")
async def invoke(name: str, request: Request) -> Response:
    return await answer(request.app.state.invoke, name, await request.body(),
                        request.headers, request.query_params.get("Qualifier"))


router.include_router(control_router)


class InvokeFastPath:
    """`POST /2015-03-31/functions/{name}/invocations` straight to `app`'s InvokeService;
    every other request to `app`."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        name = path[len(PREFIX):-len(SUFFIX)]
        if (scope["type"] != "http" or scope["method"] != "POST" or not path.startswith(PREFIX)
                or not path.endswith(SUFFIX) or not name or "/" in name):
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1")
                   for key, value in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        body = await _body(receive)
        try:
            response = await answer(self.app.state.invoke, name, body, headers,
                                    query.get("Qualifier", [None])[0])
        except AwsError as error:
            response = aws_error_response(error)
        await response(scope, receive, send)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)

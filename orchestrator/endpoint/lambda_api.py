"""Lambda's Invoke REST API (POST /2015-03-31/functions/{name}/invocations), and the control
plane's routes (`lambda_control/`) under the same router."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from orchestrator.endpoint.lambda_control import router as control_router
from orchestrator.invocations.invoke import InvokeService, function_name
from orchestrator.services.calls import name_operation

router = APIRouter()


@router.post("/2015-03-31/functions/{name}/invocations")
async def invoke(name: str, request: Request) -> Response:
    service: InvokeService = request.app.state.invoke
    name_operation("Lambda", "Invoke", {"faas.invoked_name": function_name(name)})
    headers = request.headers
    result = await service.invoke(
        name,
        await request.body(),
        invocation_type=headers.get("x-amz-invocation-type", "RequestResponse"),
        tail_log=headers.get("x-amz-log-type", "None") == "Tail",
        client_context=headers.get("x-amz-client-context", ""),
        qualifier=request.query_params.get("Qualifier"),
    )
    answer = {"x-amzn-RequestId": result.request_id,
              "X-Amz-Executed-Version": result.executed_version}
    if result.function_error:
        answer["X-Amz-Function-Error"] = result.function_error
    if result.log_tail:
        answer["X-Amz-Log-Result"] = result.log_tail
    return Response(result.payload, status_code=result.status, headers=answer,
                    media_type="application/json")


router.include_router(control_router)

"""Who may call a route, before its function runs, in API Gateway's order: the authorizer
(Lambda or JWT), then the API key (REST), then the usage plan's throttle and quota, then the
route's throttle.
"""

from __future__ import annotations

from typing import Any

from orchestrator.endpoint.apigateway.authorizers import LambdaAuthorizers
from orchestrator.endpoint.apigateway.jwt_authorizer import JwtAuthorizers
from orchestrator.endpoint.apigateway.responses import Failure
from orchestrator.endpoint.apigateway.routes import Route
from orchestrator.endpoint.apigateway.throttling import Quotas, Throttles
from orchestrator.endpoint.apigateway.verdicts import ALLOW, Verdict
from orchestrator.events.apigateway import HttpRequest
from orchestrator.events.apigateway_authorizer import with_authorizer
from orchestrator.invocations.invoke import InvokeService


class Access:
    def __init__(self, invoke: InvokeService, region: str) -> None:
        self.lambdas = LambdaAuthorizers(invoke, region)
        self.jwts = JwtAuthorizers()
        self.throttles = Throttles()
        self.quotas = Quotas()

    async def check(self, route: Route, request: HttpRequest, event: dict[str, Any],
                    api_id: str, stage: str) -> Verdict:
        """ALLOW, or the failure to answer; on success `event` carries what the authorizer
        and the API key add to `requestContext`."""
        verdict = ALLOW
        authorizer = route.auth.authorizer if route.auth else None
        if authorizer is not None and authorizer.jwt is not None:
            verdict = await self.jwts.authorize(authorizer, request)
        elif authorizer is not None:
            verdict = await self.lambdas.authorize(authorizer, route, request, event, api_id,
                                                   stage)
        if verdict.failure is not None:
            return verdict
        api_key = None
        if route.auth is not None and route.auth.api_key_required:
            plan = route.usage_plan
            from_authorizer = plan is not None and plan.key_source == "AUTHORIZER"
            api_key = verdict.usage_key if from_authorizer else request.header("x-api-key")
            if plan is None or api_key not in plan.api_keys:
                return Verdict(Failure.FORBIDDEN)
            if plan.throttle and not self.throttles.allow(f"key:{api_key}", plan.throttle):
                return Verdict(Failure.RATE_LIMITED)
            if plan.quota and not self.quotas.allow(f"key:{api_key}", plan.quota):
                return Verdict(Failure.QUOTA_EXCEEDED)
        if route.throttle and not self.throttles.allow(f"route:{api_id} {route.route_key}",
                                                       route.throttle):
            return Verdict(Failure.RATE_LIMITED)
        with_authorizer(event, verdict.authorizer, api_key)
        return verdict

"""The AWS query protocol IAM and STS speak: a form-encoded `Action=…` request, an XML answer
(`<ActionResponse><ActionResult>…`), and errors as `<ErrorResponse>`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from orchestrator.errors import AwsError
from orchestrator.services.calls import name_operation

Handler = Callable[[Mapping[str, str]], Any]


class QueryError(AwsError):
    """An error in the query protocol's shape; `code` and `status` as AWS gives them."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def render(parent: ElementTree.Element, value: Any) -> None:
    """A dict as child elements, a list as `<member>`s, anything else as text."""
    if isinstance(value, dict):
        for name, child in value.items():
            render(ElementTree.SubElement(parent, name), child)
    elif isinstance(value, list):
        for child in value:
            render(ElementTree.SubElement(parent, "member"), child)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = str(value)


class QueryApp:
    """An ASGI app answering `actions` (name -> handler of the form's parameters)."""

    def __init__(self, service: str, namespace: str, actions: Mapping[str, Handler]) -> None:
        self.service, self.namespace, self.actions = service, namespace, dict(actions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._answer(request)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        params = dict(parse_qsl(request.url.query)) | dict(parse_qsl(body))
        action = params.get("Action", "")
        request_id = str(uuid.uuid4())
        handler = self.actions.get(action)
        try:
            if handler is None:
                raise QueryError("InvalidAction", f"ripple's {self.service} does not answer "
                                 f"{action or 'requests without an Action'}; it answers "
                                 f"{', '.join(sorted(self.actions))}")
            name_operation(self.service, action, {})
            result = handler(params)
        except QueryError as error:
            return self._error(error, request_id)
        root = ElementTree.Element(f"{action}Response", xmlns=self.namespace)
        if result is not None:
            render(ElementTree.SubElement(root, f"{action}Result"), result)
        render(ElementTree.SubElement(root, "ResponseMetadata"), {"RequestId": request_id})
        return Response(ElementTree.tostring(root, xml_declaration=True, encoding="utf-8"),
                        media_type="text/xml", headers={"x-amzn-RequestId": request_id})

    def _error(self, error: QueryError, request_id: str) -> Response:
        root = ElementTree.Element("ErrorResponse", xmlns=self.namespace)
        render(root, {"Error": {"Type": "Sender", "Code": error.code, "Message": error.message},
                      "RequestId": request_id})
        return Response(ElementTree.tostring(root, xml_declaration=True, encoding="utf-8"),
                        status_code=error.status, media_type="text/xml",
                        headers={"x-amzn-RequestId": request_id})

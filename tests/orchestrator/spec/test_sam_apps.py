"""SAM apps run from their template.yaml, unedited, on a real ripple: AWS's hello world through
the stage, and S3 -> function -> DynamoDB through boto3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import httpx

from tests.conftest import Ripple, wait_for
from tests.orchestrator.spec.templates import (
    HELLO_APP,
    HELLO_HTTP_API_TEMPLATE,
    HELLO_TEMPLATE,
    UPLOADS_APP,
    UPLOADS_TEMPLATE,
    write_app,
)


def client(ripple: Ripple, service: str) -> Any:
    return boto3.client(service, endpoint_url=ripple.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def test_sam_hello_world_answers_through_the_stage(ripple: Ripple, tmp_path: Path) -> None:
    # Given sam init's hello world (REST API) and the same app on an HTTP API, unedited
    rest = tmp_path / "sam-app"
    http = tmp_path / "sam-http-app"
    for folder, template in ((rest, HELLO_TEMPLATE), (http, HELLO_HTTP_API_TEMPLATE)):
        folder.mkdir()
        path = write_app(folder, template, {"hello_world/app.py": HELLO_APP})
        # When `ripple deploy template.yaml` runs
        deployed = ripple.cli("deploy", str(path))
        assert deployed.returncode == 0, deployed.stderr
    # Then GET /hello on the stage answers as on AWS, and so does the HTTP API's route
    for route in ("/hello", "/hello-http"):
        answer = httpx.get(ripple.stage_url + route, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"message": "hello world"}
    # And the HTTP API's CorsConfiguration answers a browser's preflight
    preflight = httpx.options(ripple.stage_url + "/hello-http", timeout=30, headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204, preflight.text
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    # And the function is there under its logical id, with the template's settings
    function = ripple.api("GET", "/_ripple/api/functions/HelloWorldFunction")
    assert (function["handler"], function["runtime"], function["timeout"]) == (
        "app.lambda_handler", "python3.12", 3)


def test_an_s3_upload_is_recorded_in_the_table(ripple: Ripple, tmp_path: Path) -> None:
    # Given an S3 -> function -> DynamoDB SAM app deployed from its template, unedited
    folder = tmp_path / "uploads-app"
    folder.mkdir()
    template = write_app(folder, UPLOADS_TEMPLATE, {"src/record.py": UPLOADS_APP})
    deployed = ripple.cli("deploy", str(template))
    assert deployed.returncode == 0, deployed.stderr
    # When a .txt and a .png are uploaded with boto3
    s3 = client(ripple, "s3")
    s3.put_object(Bucket="uploads-app-uploads-dev", Key="picture.png", Body=b"\x89PNG")
    s3.put_object(Bucket="uploads-app-uploads-dev", Key="notes/a b.txt", Body=b"three short words")
    # Then the function records the .txt in the table (the filter keeps the .png out)
    table = client(ripple, "dynamodb")
    item = wait_for(lambda: table.get_item(TableName="uploads-app-uploads",
                                           Key={"key": {"S": "notes/a b.txt"}}).get("Item"))
    assert item == {"key": {"S": "notes/a b.txt"}, "words": {"N": "3"}, "stage": {"S": "dev"}}
    assert table.scan(TableName="uploads-app-uploads")["Count"] == 1
    # And `ripple deploy --json` of the same template changes nothing
    again = ripple.cli("deploy", str(template), "--json")
    assert [result["changed"] for result in json.loads(again.stdout)] == [False]


GUARDED = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  GuardedApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Gate
        Authorizers:
          Gate:
            FunctionArn: !GetAtt SamGate.Arn
            AuthorizerPayloadFormatVersion: 2.0
            EnableSimpleResponses: true
            Identity: {Headers: [Authorization]}
  SamGate:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/, Handler: gate.handler, Runtime: python3.12}
  SamGuarded:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Get: {Type: HttpApi, Properties: {ApiId: !Ref GuardedApi, Path: /sam-guarded, Method: GET}}
"""
GATE = '''\
def handler(event, context):
    allowed = event["headers"].get("authorization") == "let-me-in"
    return {"isAuthorized": allowed, "context": {"user": "ann"}}
'''
GUARDED_APP = '''\
def handler(event, context):
    return {"user": event["requestContext"]["authorizer"]["lambda"]["user"]}
'''


def test_an_http_api_authorizer_guards_its_routes(ripple: Ripple, tmp_path: Path) -> None:
    # Given an HTTP API whose default Lambda authorizer lets in one token
    template = write_app(tmp_path, GUARDED, {"src/gate.py": GATE, "src/app.py": GUARDED_APP})
    deployed = ripple.cli("deploy", str(template))
    assert deployed.returncode == 0, deployed.stderr
    url = ripple.stage_url + "/sam-guarded"
    # When the route is called with the token, Then the handler sees the authorizer's context
    allowed = httpx.get(url, headers={"Authorization": "let-me-in"}, timeout=30)
    assert (allowed.status_code, allowed.json()) == (200, {"user": "ann"})
    # And with another token the stage answers 403 without running the handler
    assert httpx.get(url, headers={"Authorization": "nope"}, timeout=30).status_code == 403

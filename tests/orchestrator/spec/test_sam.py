"""SAM templates read as ripple's spec: resolution of Ref, GetAtt, Sub, parameters and Globals,
and every unsupported piece named by file, resource and property."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import SpecError
from orchestrator.spec import load_any
from tests.orchestrator.spec.templates import (
    HELLO_APP,
    HELLO_HTTP_API_TEMPLATE,
    HELLO_TEMPLATE,
    UPLOADS_APP,
    UPLOADS_TEMPLATE,
    write_app,
)


def test_hello_world_becomes_a_function_with_a_route(tmp_path: Path) -> None:
    # Given sam init's hello world, unedited
    template = write_app(tmp_path, HELLO_TEMPLATE, {"hello_world/app.py": HELLO_APP})
    # When it is read
    spec = load_any(template)
    # Then its function has the template's code, handler, runtime, Globals' timeout and route
    function = spec.functions["HelloWorldFunction"]
    assert function.code == tmp_path / "hello_world"
    assert (function.handler, function.runtime, function.timeout) == (
        "app.lambda_handler", "python3.12", 3)
    http = function.events[0].http
    assert http is not None
    assert (http.method, http.path, http.payload_format) == ("GET", "/hello", "1.0")


def test_an_http_api_event_is_payload_2(tmp_path: Path) -> None:
    template = write_app(tmp_path, HELLO_HTTP_API_TEMPLATE, {"hello_world/app.py": HELLO_APP})
    http = load_any(template).functions["HelloHttpFunction"].events[0].http
    assert http is not None and http.payload_format == "2.0"


def test_refs_getatts_subs_parameters_and_globals_resolve(tmp_path: Path) -> None:
    # Given an S3 -> function -> DynamoDB app in a folder named like a stack
    folder = tmp_path / "uploads-app"
    folder.mkdir()
    template = write_app(folder, UPLOADS_TEMPLATE, {"src/record.py": UPLOADS_APP})
    # When it is read
    spec = load_any(template)
    # Then names come from !Sub with the stack name and the parameter's default
    assert spec.buckets == ["uploads-app-uploads-dev"]
    assert spec.tables["uploads-app-uploads"].keys == {"key": "S"}
    function = spec.functions["RecordFunction"]
    # And Globals' variables merge with the function's, Refs and GetAtts resolved
    assert function.environment == {
        "STAGE": "dev", "TABLE_NAME": "uploads-app-uploads",
        "TABLE_ARN": "arn:aws:dynamodb:us-east-1:000000000000:table/uploads-app-uploads"}
    assert (function.memory, function.timeout, function.retries) == (256, 10, 1)
    s3 = function.events[0].s3
    assert s3 is not None
    assert (s3.bucket, s3.events, s3.suffix) == (
        "uploads-app-uploads-dev", ["s3:ObjectCreated:*"], ".txt")


STREAM_APP = """\
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S},
                             {AttributeName: at, AttributeType: N}]
      KeySchema: [{AttributeName: at, KeyType: RANGE}, {AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
  Failed:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.12}
  Tally:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      ReservedConcurrentExecutions: 2
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
            DestinationConfig:
              OnFailure: {Destination: !GetAtt Failed.Arn}
"""


def test_a_stream_event_reads_the_table_and_its_settings(tmp_path: Path) -> None:
    template = write_app(tmp_path, STREAM_APP, {"src/app.py": ""})
    spec = load_any(template)
    assert list(spec.tables["Orders"].keys) == ["id", "at"]  # partition key first
    assert spec.tables["Orders"].stream == "NEW_AND_OLD_IMAGES"
    function = spec.functions["Tally"]
    stream = function.events[0].dynamodb
    assert stream is not None
    assert (stream.table, stream.starting_position, stream.batch_size, stream.on_failure,
            stream.report_batch_item_failures) == ("Orders", "TRIM_HORIZON", 10, "Failed", True)
    assert function.reserved_concurrency == 2


@pytest.mark.parametrize(("edit", "field", "reason"), [
    # an unsupported property of a function
    (("Runtime: python3.12\n      ReservedConcurrentExecutions: 2",
      "Runtime: python3.12\n      Layers: [arn:aws:lambda:us-east-1:1:layer:x:1]"),
     "Resources.Tally.Properties.Layers", "not supported by ripple"),
    # an event type ripple has no source for
    ("Type: DynamoDB", "Resources.Tally.Properties.Events.Stream.Type",
     "event type 'SQS' is not supported"),
    # a field ripple checks, pointed at in the template's words
    (("ReservedConcurrentExecutions: 2", "MemorySize: 64"),
     "Resources.Tally.Properties.MemorySize", "between 128 and 10240"),
    # an intrinsic function ripple does not resolve
    (("!GetAtt Orders.StreamArn", "!Join ['', [a, b]]"),
     "Resources.Tally.Properties.Events.Stream.Properties.Stream.Fn::Join", "not supported"),
    # a GetAtt of an attribute ripple has no value for
    (("!GetAtt Failed.Arn", "!GetAtt Failed.Version"),
     "Resources.Tally.Properties.Events.Stream.Properties.DestinationConfig.OnFailure"
     ".Destination.Fn::GetAtt", "Failed.Version is not supported (ripple knows Arn)"),
    # a table property ripple's tables do not carry
    (("StreamSpecification:", "TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}\n"
                              "      StreamSpecification:"),
     "Resources.Orders.Properties.TimeToLiveSpecification", "not supported"),
])
def test_unsupported_pieces_are_named_by_file_resource_and_property(
        tmp_path: Path, edit: tuple[str, str] | str, field: str, reason: str) -> None:
    # Given the stream app with one piece changed
    old, new = edit if isinstance(edit, tuple) else (edit, "Type: SQS")
    template = write_app(tmp_path, STREAM_APP.replace(old, new, 1), {"src/app.py": ""})
    # When it is read, Then the error names the template, the property path and why
    with pytest.raises(SpecError) as raised:
        load_any(template)
    assert (raised.value.file, raised.value.field) == (str(template), field)
    assert reason in raised.value.reason


def test_an_unsupported_global_is_named_where_it_is(tmp_path: Path) -> None:
    # Given a Globals.Function property ripple does not read
    layered = HELLO_TEMPLATE.replace("Timeout: 3", "Timeout: 3\n    Layers: [x]")
    template = write_app(tmp_path, layered, {"hello_world/app.py": HELLO_APP})
    # When it is read, Then the error points at Globals, where it is written
    with pytest.raises(SpecError, match=r"Globals\.Function\.Layers: Layers: not supported"):
        load_any(template)


def test_an_api_s_usage_plan_is_not_dropped_quietly(tmp_path: Path) -> None:
    # Given an API with a usage plan, whose keys AWS would make
    planned = HELLO_HTTP_API_TEMPLATE.replace(
        "StageName: $default", "StageName: $default\n      Auth: {UsagePlan: {CreateUsagePlan: "
                               "PER_API}}")
    template = write_app(tmp_path, planned, {"hello_world/app.py": HELLO_APP})
    # When it is read, Then the error names the API's property instead of serving it open
    with pytest.raises(SpecError, match=r"Resources\.HelloApi\.Properties\.Auth\.UsagePlan: "
                                        r"UsagePlan: not supported"):
        load_any(template)


AUTHORIZED = """\
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Gate
        Authorizers:
          Gate:
            FunctionArn: !GetAtt GateFunction.Arn
            EnableSimpleResponses: true
            Identity: {Headers: [Authorization]}
          Tokens:
            JwtConfiguration: {issuer: "https://issuer.example.com", audience: [app]}
            IdentitySource: $request.header.Authorization
  GateFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/, Handler: gate.handler, Runtime: python3.12}
  Guarded:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Events:
        ByDefault: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /guarded, Method: GET}}
        ByJwt:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /jwt
            Method: GET
            Auth: {Authorizer: Tokens, AuthorizationScopes: [read]}
        Open:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /open, Method: GET, Auth: {Authorizer: NONE}}
"""


def test_an_api_s_authorizers_go_onto_its_routes(tmp_path: Path) -> None:
    # Given an HTTP API with a default Lambda authorizer and a JWT one
    template = write_app(tmp_path, AUTHORIZED, {"src/app.py": "", "src/gate.py": ""})
    # When it is read
    events = load_any(template).functions["Guarded"].events
    routes = {event.http.path: event.http.auth for event in events if event.http}
    # Then the default guards a route without Auth, an event names its own, NONE opens one
    guarded, jwt = routes["/guarded"], routes["/jwt"]
    assert guarded is not None and guarded.authorizer is not None
    assert (guarded.authorizer.function, guarded.authorizer.simple_responses,
            guarded.authorizer.identity.headers) == ("GateFunction", True, ["Authorization"])
    assert jwt is not None and jwt.authorizer is not None and jwt.authorizer.jwt is not None
    assert (jwt.authorizer.jwt.issuer, jwt.authorizer.jwt.audience, jwt.authorizer.scopes) == (
        "https://issuer.example.com", ["app"], ["read"])
    assert routes["/open"] is None


def test_an_api_s_cors_goes_onto_its_routes(tmp_path: Path) -> None:
    # Given an HTTP API with a CorsConfiguration, and REST routes under Globals.Api.Cors
    cors = HELLO_HTTP_API_TEMPLATE.replace("AllowMethods: [GET]", "AllowMethods: [GET]\n"
                                                                  "        MaxAge: 600")
    cors = cors.replace("Globals:\n", "Globals:\n  Api:\n    Cors: \"'*'\"\n")
    cors = cors.replace("Resources:\n", """Resources:
  RestFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.12
      Events:
        Get: {Type: Api, Properties: {Path: /rest, Method: get}}
""")
    template = write_app(tmp_path, cors, {"hello_world/app.py": HELLO_APP})
    # When it is read
    spec = load_any(template)
    # Then each route carries its API's CORS, REST's quoted values unquoted
    http = spec.functions["HelloHttpFunction"].events[0].http
    rest = spec.functions["RestFunction"].events[0].http
    assert http is not None and http.cors is not None
    assert (http.cors.allow_origins, http.cors.allow_methods, http.cors.max_age) == (
        ["https://app.example.com"], ["GET"], 600)
    assert rest is not None and rest.cors is not None and rest.cors.allow_origins == ["*"]


def test_an_unsupported_resource_type_is_named(tmp_path: Path) -> None:
    template = write_app(tmp_path, STREAM_APP + "  Queue:\n    Type: AWS::SQS::Queue\n",
                         {"src/app.py": ""})
    with pytest.raises(SpecError, match=r"Resources\.Queue\.Type: AWS::SQS::Queue is not "
                                        r"supported by ripple"):
        load_any(template)


def test_a_parameter_without_default_and_a_repeated_key_are_refused(tmp_path: Path) -> None:
    template = write_app(tmp_path, "Parameters:\n  Stage: {Type: String}\n" + STREAM_APP,
                         {"src/app.py": ""})
    with pytest.raises(SpecError, match=r"Parameters\.Stage: has no Default"):
        load_any(template)
    template.write_text(STREAM_APP + "  Orders:\n    Type: AWS::S3::Bucket\n")
    with pytest.raises(SpecError, match="Duplicate found 'Orders'"):
        load_any(template)

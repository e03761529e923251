"""`ripple s3 …` and `ripple ddb …`: the simulated data services through plain boto3."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.cli.app import app
from orchestrator.settings import get_settings

s3_app = typer.Typer(help="Buckets and objects (S3).", no_args_is_help=True)
ddb_app = typer.Typer(help="Table items (DynamoDB).", no_args_is_help=True)
app.add_typer(s3_app, name="s3")
app.add_typer(ddb_app, name="ddb")
out = Console()
err = Console(stderr=True)
JSON = Annotated[bool, typer.Option("--json", help="print JSON")]
DYNAMODB_TYPES = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL"}


def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    token = settings.token or "test"  # a non-loopback endpoint takes its token as the key id
    return boto3.client(service, endpoint_url=settings.endpoint, region_name=settings.region,
                        aws_access_key_id=token, aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


def run(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Call boto3; turn AWS errors and an unreachable endpoint into one clear line."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    try:
        return call(*args, **kwargs)
    except ClientError as error:
        details = error.response.get("Error", {})
        err.print(f"[red]{details.get('Code', 'Error')}[/]: {details.get('Message', error)}",
                  highlight=False)
    except EndpointConnectionError:
        err.print(f"[red]error:[/] cannot reach ripple at {get_settings().endpoint}. Start it "
                  "with `ripple up`, or set RIPPLE_ENDPOINT.")
    raise typer.Exit(1)


@s3_app.command("mb")
def make_bucket(bucket: str) -> None:
    """Create a bucket."""
    run(client("s3").create_bucket, Bucket=bucket)
    err.print(f"make_bucket: {bucket}")


@s3_app.command("put")
def put_object(bucket: str, key: str,
               file: Annotated[str, typer.Argument(help="file to upload, - for stdin")] = "-",
               content_type: Annotated[str | None, typer.Option()] = None) -> None:
    """Upload a file (or stdin) as BUCKET/KEY."""
    body = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    extra = {"ContentType": content_type} if content_type else {}
    answer = run(client("s3").put_object, Bucket=bucket, Key=key, Body=body, **extra)
    err.print(f"upload: {bucket}/{key} ({len(body)} bytes, ETag {answer['ETag']})")


@s3_app.command("get")
def get_object(bucket: str, key: str,
               file: Annotated[str, typer.Argument(help="file to write, - for stdout")] = "-"
               ) -> None:
    """Download BUCKET/KEY to a file (or stdout)."""
    body = run(client("s3").get_object, Bucket=bucket, Key=key)["Body"].read()
    if file == "-":
        sys.stdout.buffer.write(body)
    else:
        Path(file).write_bytes(body)


@s3_app.command("ls")
def list_objects(bucket: Annotated[str | None, typer.Argument()] = None,
                 prefix: Annotated[str, typer.Option(help="only keys with this prefix")] = "",
                 as_json: JSON = False) -> None:
    """List buckets, or the objects of one bucket."""
    s3 = client("s3")
    if bucket is None:
        buckets = [{"name": b["Name"], "created": str(b["CreationDate"])}
                   for b in run(s3.list_buckets).get("Buckets", [])]
        _show(buckets, as_json, ("name", "created"))
        return
    objects = []
    for page in run(s3.get_paginator("list_objects_v2").paginate, Bucket=bucket, Prefix=prefix):
        objects += [{"key": o["Key"], "size": o["Size"], "etag": o["ETag"],
                     "modified": str(o["LastModified"])} for o in page.get("Contents", [])]
    _show(objects, as_json, ("key", "size", "modified", "etag"))


@s3_app.command("rm")
def remove_object(bucket: str, key: str) -> None:
    """Delete BUCKET/KEY."""
    run(client("s3").delete_object, Bucket=bucket, Key=key)
    err.print(f"delete: {bucket}/{key}")


def to_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON becomes DynamoDB-typed JSON; typed JSON passes through unchanged."""
    from boto3.dynamodb.types import TypeSerializer

    typed = all(isinstance(value, dict) and len(value) == 1 and next(iter(value)) in
                DYNAMODB_TYPES for value in item.values())
    if typed:
        return item
    serializer = TypeSerializer()
    plain = json.loads(json.dumps(item), parse_float=Decimal)
    return {key: serializer.serialize(value) for key, value in plain.items()}


def from_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in item.items()}


def _parse(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(Path(text[1:]).read_text() if text.startswith("@") else text)
    except (ValueError, OSError) as error:
        err.print(f"[red]error:[/] {what} is not JSON: {error}")
        raise typer.Exit(2) from None
    if not isinstance(value, dict):
        err.print(f"[red]error:[/] {what} must be a JSON object")
        raise typer.Exit(2)
    return value


@ddb_app.command("put")
def put_item(table: str, item: Annotated[str, typer.Argument(help="JSON object, or @file")]
             ) -> None:
    """Write an item (plain JSON or DynamoDB-typed JSON)."""
    run(client("dynamodb").put_item, TableName=table, Item=to_dynamodb(_parse(item, "ITEM")))


@ddb_app.command("get")
def get_item(table: str, key: Annotated[str, typer.Argument(help="the key as JSON")],
             as_json: JSON = True) -> None:
    """Read an item by its key."""
    answer = run(client("dynamodb").get_item, TableName=table,
                 Key=to_dynamodb(_parse(key, "KEY")))
    if "Item" not in answer:
        err.print("not found")
        raise typer.Exit(1)
    sys.stdout.write(json.dumps(from_dynamodb(answer["Item"]), default=_number) + "\n")


@ddb_app.command("delete")
def delete_item(table: str, key: Annotated[str, typer.Argument(help="the key as JSON")]) -> None:
    """Delete an item by its key."""
    run(client("dynamodb").delete_item, TableName=table, Key=to_dynamodb(_parse(key, "KEY")))


@ddb_app.command("scan")
def scan(table: str, as_json: JSON = False) -> None:
    """Every item of a table."""
    items = []
    for page in run(client("dynamodb").get_paginator("scan").paginate, TableName=table):
        items += [from_dynamodb(item) for item in page.get("Items", [])]
    if as_json:
        sys.stdout.write(json.dumps(items, default=_number) + "\n")
        return
    columns = tuple(sorted({key for item in items for key in item}))
    _show([{k: json.dumps(item.get(k), default=_number) for k in columns} for item in items],
          False, columns)


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _show(rows: list[dict[str, Any]], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    out.print(table)

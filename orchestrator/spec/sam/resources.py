"""`AWS::S3::Bucket`, `AWS::DynamoDB::Table` and `AWS::Serverless::SimpleTable` as ripple's
buckets and tables: their names, keys and stream, each unsupported property named."""

from __future__ import annotations

from typing import Any

from orchestrator.errors import SpecError
from orchestrator.spec.sam.intrinsics import Names

# Accepted and without effect in ripple (capacity, encryption and backups are AWS's concerns).
TABLE_IGNORED = {"TableName", "BillingMode", "ProvisionedThroughput", "Tags", "SSESpecification",
                 "PointInTimeRecoverySpecification", "TableClass", "DeletionProtectionEnabled",
                 "ContributorInsightsSpecification", "OnDemandThroughput"}
SIMPLE_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


def bucket_name(logical: str, given: Any) -> str:
    """BucketName, or (as CloudFormation would generate one) the logical id in lowercase."""
    return str(given) if given else logical.lower()


def table_name(logical: str, given: Any) -> str:
    return str(given) if given else logical


def table(kind: str, properties: dict[str, Any], names: Names, at: str) -> dict[str, Any]:
    """The ripple.yaml `tables:` entry: keys (partition, then sort) and the stream's view."""
    at = f"{at}.Properties"
    if kind == "AWS::Serverless::SimpleTable":
        key = properties.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        unknown = sorted(set(properties) - TABLE_IGNORED - {"PrimaryKey"})
        if unknown:
            raise SpecError(names.file, f"{at}.{unknown[0]}", "not supported by ripple")
        kind = str(key.get("Type"))
        return {"keys": {key.get("Name"): SIMPLE_TYPES.get(kind, kind)}}
    unknown = sorted(set(properties) - TABLE_IGNORED - {"KeySchema", "AttributeDefinitions",
                                                         "StreamSpecification"})
    if unknown:
        raise SpecError(names.file, f"{at}.{unknown[0]}", f"{', '.join(unknown)}: not supported "
                        "by ripple's tables (it reads KeySchema, AttributeDefinitions and "
                        "StreamSpecification)")
    types = {attribute.get("AttributeName"): attribute.get("AttributeType")
             for attribute in properties.get("AttributeDefinitions") or []}
    schema = sorted(properties.get("KeySchema") or [], key=lambda key: key.get("KeyType") != "HASH")
    keys = {}
    for index, key in enumerate(schema):
        name = key.get("AttributeName")
        if name not in types:
            raise SpecError(names.file, f"{at}.KeySchema[{index}]", f"key {name!r} is not in "
                            "AttributeDefinitions")
        keys[name] = types[name]
    if not keys:
        raise SpecError(names.file, f"{at}.KeySchema", "is required")
    result: dict[str, Any] = {"keys": keys}
    stream = properties.get("StreamSpecification")
    if stream:
        result["stream"] = stream.get("StreamViewType")
    return result

"""A SAM `template.yaml` read as ripple's own spec: functions, buckets, tables and routes.

The template is parsed by cfn-lint's decoder (CloudFormation's short tags `!Ref`, `!GetAtt`,
`!Sub` become their `Fn::` forms; repeated keys are refused), then translated into the mapping
ripple.yaml would hold and checked by the same models, so everything downstream is unchanged.
Problems are SpecErrors naming the template, the resource's property path and why.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from orchestrator.errors import SpecError
from orchestrator.settings import ACCOUNT_ID, get_settings
from orchestrator.spec.load import validate_spec
from orchestrator.spec.models import Spec
from orchestrator.spec.sam.apis import IMPLICIT, api_auth, api_cors
from orchestrator.spec.sam.functions import FIELDS, IGNORED, translate_function, with_globals
from orchestrator.spec.sam.intrinsics import Names, pseudo_parameters, resolve
from orchestrator.spec.sam.resources import bucket_name, table, table_name

FUNCTION = "AWS::Serverless::Function"
BUCKET, TABLE = "AWS::S3::Bucket", "AWS::DynamoDB::Table"
SIMPLE_TABLE = "AWS::Serverless::SimpleTable"
APIS = {"AWS::Serverless::HttpApi", "AWS::Serverless::Api"}  # served by ripple's stage
NOTHING_TO_RUN = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
                  "AWS::Lambda::Permission", "AWS::Logs::LogGroup"}  # recorded, not enforced
SECTIONS = {"AWSTemplateFormatVersion", "Transform", "Description", "Metadata", "Parameters",
            "Globals", "Resources", "Outputs", "Mappings", "Conditions"}
_TEMPLATE = re.compile(r"^[\"']?(Resources|Transform|AWSTemplateFormatVersion)[\"']?\s*:", re.M)


def is_template(path: Path) -> bool:
    """Whether a file is a CloudFormation/SAM template rather than a ripple.yaml."""
    try:
        return bool(_TEMPLATE.search(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return False


def load_template(path: Path) -> Spec:
    """Read, resolve and check a SAM template; raises SpecError(file, field, reason)."""
    from cfnlint.decode import decode  # 0.3 s to import: only when a template is read

    file = str(path)
    if not path.is_file():
        raise SpecError(file, "", "no such file: pass the path of your template.yaml")
    template, matches = decode(file)
    if matches or template is None:
        reasons = "; ".join(_located(match) for match in matches)
        raise SpecError(file, "", f"cannot be read as a template: {reasons or 'empty'}")
    unknown = sorted(set(template) - SECTIONS)
    if unknown:
        raise SpecError(file, unknown[0], "not a section of a SAM template")
    for section in ("Conditions", "Mappings"):
        if template.get(section):
            raise SpecError(file, section, f"{section} are not supported by ripple")
    resources = template.get("Resources") or {}
    names = _names(file, path, template.get("Parameters") or {}, resources)
    raw: dict[str, Any] = {"functions": {}, "buckets": [], "tables": {}}
    paths: dict[str, str] = {}
    defaults = _globals(file, template.get("Globals") or {})
    for api, logical in IMPLICIT.items():  # the APIs SAM makes for events without an ApiId
        given = resolve(template.get("Globals", {}).get(api) or {}, names, f"Globals.{api}")
        names.cors[logical] = api_cors(file, f"Globals.{api}", api, given)
        names.auth[logical] = api_auth(file, f"Globals.{api}", api, given)
    for logical, resource in resources.items():
        kind, at = resource.get("Type"), f"Resources.{logical}"
        if "Condition" in resource:
            raise SpecError(file, f"{at}.Condition", "conditions are not supported by ripple")
        properties = resource.get("Properties") or {}
        if kind == FUNCTION:
            raw["functions"][names.refs[logical]] = translate_function(
                logical, with_globals(properties, defaults), names, paths)
        elif kind == BUCKET:
            raw["buckets"].append(names.refs[logical])
        elif kind in (TABLE, SIMPLE_TABLE):
            raw["tables"][names.refs[logical]] = table(kind, resolve(properties, names, at),
                                                       names, at)
            paths[f"tables.{names.refs[logical]}"] = f"{at}.Properties"
        elif kind in APIS:
            pass  # read with the names: its CORS goes onto its routes
        elif kind not in NOTHING_TO_RUN:
            raise SpecError(file, f"{at}.Type", f"{kind} is not supported by ripple (it runs "
                            f"{FUNCTION}, {BUCKET}, {TABLE}, {SIMPLE_TABLE} and "
                            f"{', '.join(sorted(APIS))})")
    try:
        return validate_spec(file, raw, path.resolve().parent)
    except SpecError as error:
        raise SpecError(file, _template_path(error.field, paths), error.reason) from None


def _located(match: Any) -> str:
    """A cfn-lint parse problem with its line (its duplicate-key message has one already)."""
    message = str(getattr(match, "message", match))
    line = getattr(match, "linenumber", None)
    return message if line is None or "line" in message else f"{message} at line {line}"


def _globals(file: str, sections: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(sections) - {"Function", "HttpApi", "Api", "SimpleTable"})
    if unknown:
        raise SpecError(file, f"Globals.{unknown[0]}", "not supported by ripple")
    defaults = dict(sections.get("Function") or {})
    unknown = sorted(set(defaults) - set(FIELDS) - IGNORED - {"Events"})
    if unknown:
        raise SpecError(file, f"Globals.Function.{unknown[0]}", f"{', '.join(unknown)}: not "
                        f"supported by ripple (it reads {', '.join(FIELDS)}, EventInvokeConfig)")
    return defaults


def _names(file: str, path: Path, parameters: dict[str, Any],
           resources: dict[str, Any]) -> Names:
    """Parameter values (their Default), pseudo parameters and each resource's Ref and ARNs."""
    region = get_settings().region
    stack = re.sub(r"[^a-z0-9-]", "-", path.resolve().parent.name.lower()).strip("-") or "ripple"
    names = Names(file, pseudo_parameters(region, stack))
    for name, parameter in parameters.items():
        if "Default" not in parameter:
            raise SpecError(file, f"Parameters.{name}", "has no Default: ripple deploys a "
                                                       "template with its parameters' defaults")
        default = parameter["Default"]
        listed = isinstance(default, list)
        names.refs[name] = ",".join(map(str, default)) if listed else str(default)
    for logical, resource in resources.items():
        kind, at = resource.get("Type"), f"Resources.{logical}.Properties"
        properties = resource.get("Properties") or {}
        if kind == FUNCTION:
            name = str(resolve(properties.get("FunctionName", logical), names, at))
            names.refs[logical] = name
            names.attributes[(logical, "Arn")] = (
                f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}")
        elif kind == BUCKET:
            name = bucket_name(logical, resolve(properties.get("BucketName"), names, at))
            names.refs[logical] = name
            names.attributes[(logical, "Arn")] = f"arn:aws:s3:::{name}"
            names.attributes[(logical, "DomainName")] = f"{name}.s3.amazonaws.com"
        elif kind in (TABLE, SIMPLE_TABLE):
            name = table_name(logical, resolve(properties.get("TableName"), names, at))
            names.refs[logical] = name
            arn = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}"
            names.attributes[(logical, "Arn")] = arn
            names.attributes[(logical, "StreamArn")] = f"{arn}/stream/ripple"
        else:
            names.refs[logical] = logical
    for logical, resource in resources.items():  # once every Ref and ARN is known
        kind, at = resource.get("Type"), f"Resources.{logical}.Properties"
        if kind in APIS:
            api, properties = kind.rsplit(":", 1)[1], resolve(resource.get("Properties") or {},
                                                             names, at)
            names.cors[logical] = api_cors(file, at, api, properties)
            names.auth[logical] = api_auth(file, at, api, properties)
    return names


def _template_path(field: str, paths: dict[str, str]) -> str:
    """The template's property path for a ripple.yaml field path (the longest known prefix)."""
    for cut in range(len(field), 0, -1):
        prefix = field[:cut]
        if prefix in paths and (cut == len(field) or field[cut] in ".["):
            return paths[prefix] + field[cut:]
    return field

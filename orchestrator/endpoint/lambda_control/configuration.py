"""A function's configuration between Lambda's shape and ripple's FunctionConfig: the fields
CreateFunction and UpdateFunctionConfiguration set, checked as Lambda checks them, and the
FunctionConfiguration every read answers with."""

from __future__ import annotations

import re
from typing import Any

from orchestrator.endpoint.lambda_control.requests import field
from orchestrator.errors import InvalidParameterValue, PreconditionFailed
from orchestrator.functions.config import DEAD_LETTER_LIST, FunctionConfig
from orchestrator.invocations.invoke import function_name
from orchestrator.spec.fields import RESERVED_VARIABLES, RUNTIMES

NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
ROLE = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-/]+")
HANDLER = re.compile(r"[^\s]{1,128}")
VARIABLE = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")
ARCHITECTURES = ("x86_64", "arm64")


def valid_name(name_or_arn: str) -> str:
    name = function_name(name_or_arn)
    if not NAME.fullmatch(name):
        raise InvalidParameterValue(
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and "
            "have length less than or equal to 64")
    return name


def configure(function: FunctionConfig, body: dict[str, Any]) -> FunctionConfig:
    """`function` with the settings `body` gives (CreateFunction's or
    UpdateFunctionConfiguration's fields); the others keep their values."""
    if body.get("Layers"):
        raise InvalidParameterValue("ripple does not support layers: put the libraries in the "
                                    "function's .zip archive")
    update: dict[str, Any] = {}
    runtime = field(body, "Runtime", str)
    if runtime is not None:
        if runtime not in RUNTIMES:
            raise InvalidParameterValue(
                f"Value {runtime} at 'runtime' is not a runtime ripple runs: it runs "
                f"{', '.join(RUNTIMES)}")
        update["runtime"] = runtime
    handler = field(body, "Handler", str)
    if handler is not None:
        if not HANDLER.fullmatch(handler):
            raise InvalidParameterValue(f"Value '{handler}' at 'handler' failed to satisfy "
                                        "constraint: Member must satisfy regular expression "
                                        r"pattern: [^\s]+")
        update["handler"] = handler
    role = field(body, "Role", str)
    if role is not None:
        if not ROLE.fullmatch(role):
            raise InvalidParameterValue(f"1 validation error detected: Value '{role}' at 'role' "
                                        "failed to satisfy constraint: Member must satisfy "
                                        "regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::"
                                        r"\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
        update["role"] = role
    description = field(body, "Description", str)
    if description is not None:
        update["description"] = description
    update.update(_limits(body))
    environment = field(body, "Environment", dict)
    if environment is not None:
        update["environment"] = _variables(environment.get("Variables") or {})
    architectures = field(body, "Architectures", list)
    if architectures:
        if len(architectures) != 1 or architectures[0] not in ARCHITECTURES:
            raise InvalidParameterValue(f"Architectures must be one of {list(ARCHITECTURES)}, "
                                        f"not {architectures}")
        update["architecture"] = architectures[0]
    dead_letters = field(body, "DeadLetterConfig", dict)
    if dead_letters is not None:
        update["on_failure"] = destination(dead_letters.get("TargetArn"))
    return function.model_copy(update=update)


def _limits(body: dict[str, Any]) -> dict[str, int]:
    found = {}
    for name, attribute, low, high in (("MemorySize", "memory", 128, 10_240),
                                       ("Timeout", "timeout", 1, 900)):
        value = field(body, name, int)
        if value is None:
            continue
        if not low <= value <= high:
            bound = "greater than or equal to" if value < low else "less than or equal to"
            limit = low if value < low else high
            member = name[0].lower() + name[1:]
            raise InvalidParameterValue(
                f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
                f"constraint: Member must have value {bound} {limit}")
        found[attribute] = value
    return found


def _variables(variables: Any) -> dict[str, str]:
    if not isinstance(variables, dict):
        raise InvalidParameterValue("Environment.Variables must be a map of names to values")
    reserved = sorted(name for name in variables
                      if name in RESERVED_VARIABLES or str(name).startswith("AWS_LAMBDA_"))
    if reserved:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            f"supported for modification. Reserved keys used in this request: "
            f"{','.join(reserved)}")
    bad = [name for name in variables if not VARIABLE.fullmatch(str(name))]
    if bad:
        raise InvalidParameterValue(f"Environment variable names must start with a letter and "
                                    f"hold letters, digits and _ only: {', '.join(bad)}")
    return {str(name): str(value) for name, value in variables.items()}


def destination(arn: Any) -> str | None:
    """Where failed events go, in FunctionConfig's terms: a Lambda function's name, or
    ripple's dead-letter list for an SQS queue, SNS topic or event bus (not simulated)."""
    if not arn:
        return None
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise InvalidParameterValue(f"The destination ARN {arn} is invalid.")
    if ":lambda:" in arn:
        return function_name(arn)
    return DEAD_LETTER_LIST


def check_revision(function: FunctionConfig, body: dict[str, Any]) -> None:
    wanted = field(body, "RevisionId", str)
    if wanted and wanted != function.version:
        raise PreconditionFailed("The Revision Id provided does not match the latest Revision "
                                 "Id. Call the GetFunction/GetAlias API to retrieve the latest "
                                 "Revision Id")


def configuration(function: FunctionConfig) -> dict[str, Any]:
    """GetFunctionConfiguration's shape; a registered function is ready at once."""
    return {**function.to_lambda(), "LastUpdateStatus": "Successful",
            "TracingConfig": {"Mode": "PassThrough"}, "EphemeralStorage": {"Size": 512}}

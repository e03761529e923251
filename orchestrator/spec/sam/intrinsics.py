"""CloudFormation's `Ref`, `Fn::GetAtt` and `Fn::Sub` resolved against a template's parameters,
pseudo parameters and the names ripple gives its resources; any other function is named as
unsupported where it appears."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from orchestrator.errors import SpecError
from orchestrator.settings import ACCOUNT_ID

_SUB = re.compile(r"\$\{([^}]*)\}")


@dataclass
class Names:
    """What `Ref` and `Fn::GetAtt` give for each logical id and parameter."""

    file: str
    refs: dict[str, str] = field(default_factory=dict)  # logical id or parameter -> value
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)  # (id, attr) -> value
    cors: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # API id -> its CORS
    # API id -> its default authorizer's name and its authorizers (the spec's `authorizer`)
    auth: dict[str, tuple[str | None, dict[str, dict[str, Any]]]] = field(default_factory=dict)

    def ref(self, name: str, where: str) -> str:
        if name not in self.refs:
            raise SpecError(self.file, where, f"Ref {name!r} names no parameter, pseudo parameter "
                                              "or resource of this template")
        return self.refs[name]

    def attribute(self, name: str, attribute: str, where: str) -> str:
        if (name, attribute) not in self.attributes:
            known = sorted(attr for logical, attr in self.attributes if logical == name)
            has = f" (ripple knows {', '.join(known)})" if known else " (no such resource)"
            raise SpecError(self.file, where, f"Fn::GetAtt {name}.{attribute} is not "
                                              f"supported{has}")
        return self.attributes[(name, attribute)]


def pseudo_parameters(region: str, stack: str) -> dict[str, str]:
    return {"AWS::Region": region, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": stack,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack}/ripple",
            "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": ""}


def resolve(value: Any, names: Names, where: str) -> Any:
    """`value` with every supported intrinsic function replaced by its text."""
    if isinstance(value, list):
        return [resolve(item, names, f"{where}[{index}]") for index, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, argument), = value.items()
        if key == "Ref":
            return names.ref(_text(argument, names, f"{where}.Ref"), f"{where}.Ref")
        if key == "Fn::GetAtt":
            return _get_att(argument, names, f"{where}.Fn::GetAtt")
        if key == "Fn::Sub":
            return _sub(argument, names, f"{where}.Fn::Sub")
        if key.startswith("Fn::") or key == "Condition":
            raise SpecError(names.file, f"{where}.{key}", f"{key} is not supported by ripple "
                            "(it resolves Ref, Fn::GetAtt and Fn::Sub): write the value out")
    return {key: resolve(item, names, f"{where}.{key}") for key, item in value.items()}


def _text(value: Any, names: Names, where: str) -> str:
    resolved = resolve(value, names, where)
    if not isinstance(resolved, str | int | float):
        raise SpecError(names.file, where, f"must be text (got {type(resolved).__name__})")
    return str(resolved)


def _get_att(argument: Any, names: Names, where: str) -> str:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    if not (isinstance(argument, list) and len(argument) == 2):
        raise SpecError(names.file, where, "must be Resource.Attribute or [Resource, Attribute]")
    logical, attribute = (_text(part, names, where) for part in argument)
    return names.attribute(logical, attribute, where)


def _sub(argument: Any, names: Names, where: str) -> str:
    variables: dict[str, str] = {}
    if isinstance(argument, list):
        if len(argument) != 2 or not isinstance(argument[1], dict):
            raise SpecError(names.file, where, "must be a string or [string, {variables}]")
        argument, given = argument
        variables = {key: _text(item, names, f"{where}[1].{key}") for key, item in given.items()}
    if not isinstance(argument, str):
        raise SpecError(names.file, where, "must be a string with ${Name} placeholders")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal} is written out as ${Literal}
        if name in variables:
            return variables[name]
        if "." in name and name not in names.refs:
            logical, attribute = name.split(".", 1)
            return names.attribute(logical, attribute, where)
        return names.ref(name, where)

    return _SUB.sub(replace, argument)

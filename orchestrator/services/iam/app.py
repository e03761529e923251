"""IAM's role calls (CreateRole, GetRole, ListRoles, DeleteRole, Attach/Detach/ListAttached
RolePolicies, Put/Get/Delete/ListRolePolicies) and STS's GetCallerIdentity and AssumeRole,
answered in AWS's shape. Recorded, not enforced: see `roles.py`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from redis import Redis

from orchestrator.services.iam.query import QueryApp, QueryError
from orchestrator.services.iam.roles import Role, Roles
from orchestrator.settings import ACCOUNT_ID

IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"


def _role_shape(role: Role) -> dict[str, Any]:
    return {"Path": role.path, "RoleName": role.name, "RoleId": role.role_id, "Arn": role.arn,
            "CreateDate": role.created, "Description": role.description or None,
            "MaxSessionDuration": role.max_session_duration,
            # URL-encoded, as IAM sends it (botocore decodes it back into a dict)
            "AssumeRolePolicyDocument": quote(role.assume_role_policy) or None,
            "Tags": [{"Key": key, "Value": value} for key, value in role.tags.items()] or None}


def _document(params: Mapping[str, str], name: str) -> str:
    document = _required(params, name)
    try:
        json.loads(document)
    except ValueError:
        raise QueryError("MalformedPolicyDocument", "This policy contains invalid Json") from None
    return document


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise QueryError("ValidationError", f"1 validation error detected: Value null at "
                         f"'{name[0].lower()}{name[1:]}' failed to satisfy constraint: Member "
                         "must not be null")
    return value


def _tags(params: Mapping[str, str]) -> dict[str, str]:
    tags, index = {}, 1
    while f"Tags.member.{index}.Key" in params:
        tags[params[f"Tags.member.{index}.Key"]] = params.get(f"Tags.member.{index}.Value", "")
        index += 1
    return tags


class IamActions:
    def __init__(self, redis: Redis) -> None:
        self.roles = Roles(redis)

    def role(self, params: Mapping[str, str]) -> Role:
        name = _required(params, "RoleName")
        role = self.roles.get(name)
        if role is None:
            raise QueryError("NoSuchEntity", f"The role with name {name} cannot be found.", 404)
        return role

    def create_role(self, params: Mapping[str, str]) -> dict[str, Any]:
        role = Role(name=_required(params, "RoleName"), path=params.get("Path") or "/",
                    assume_role_policy=_document(params, "AssumeRolePolicyDocument"),
                    description=params.get("Description", ""), tags=_tags(params),
                    max_session_duration=int(params.get("MaxSessionDuration") or 3600))
        if not self.roles.create(role):
            raise QueryError("EntityAlreadyExists",
                             f"Role with name {role.name} already exists.", 409)
        return {"Role": _role_shape(role)}

    def get_role(self, params: Mapping[str, str]) -> dict[str, Any]:
        return {"Role": _role_shape(self.role(params))}

    def list_roles(self, params: Mapping[str, str]) -> dict[str, Any]:
        prefix = params.get("PathPrefix") or "/"
        roles = [role for role in self.roles.all() if role.path.startswith(prefix)]
        return {"Roles": [_role_shape(role) for role in roles], "IsTruncated": False}

    def delete_role(self, params: Mapping[str, str]) -> None:
        role = self.role(params)
        if role.attached or role.inline:
            raise QueryError("DeleteConflict", "Cannot delete entity, must detach all policies "
                             "first.", 409)
        self.roles.delete(role.name)

    def attach_role_policy(self, params: Mapping[str, str]) -> None:
        role = self.role(params)
        arn = _required(params, "PolicyArn")
        if arn not in role.attached:
            role.attached.append(arn)
            self.roles.put(role)

    def detach_role_policy(self, params: Mapping[str, str]) -> None:
        role = self.role(params)
        arn = _required(params, "PolicyArn")
        if arn not in role.attached:
            raise QueryError("NoSuchEntity", f"Policy {arn} was not found.", 404)
        role.attached.remove(arn)
        self.roles.put(role)

    def list_attached_role_policies(self, params: Mapping[str, str]) -> dict[str, Any]:
        role = self.role(params)
        return {"AttachedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn}
                                     for arn in role.attached], "IsTruncated": False}

    def put_role_policy(self, params: Mapping[str, str]) -> None:
        role = self.role(params)
        role.inline[_required(params, "PolicyName")] = _document(params, "PolicyDocument")
        self.roles.put(role)

    def get_role_policy(self, params: Mapping[str, str]) -> dict[str, Any]:
        role = self.role(params)
        name = _required(params, "PolicyName")
        if name not in role.inline:
            raise QueryError("NoSuchEntity", f"The role policy with name {name} cannot be "
                             "found.", 404)
        return {"RoleName": role.name, "PolicyName": name,
                "PolicyDocument": quote(role.inline[name])}

    def delete_role_policy(self, params: Mapping[str, str]) -> None:
        role = self.role(params)
        name = _required(params, "PolicyName")
        if role.inline.pop(name, None) is None:
            raise QueryError("NoSuchEntity", f"The role policy with name {name} cannot be "
                             "found.", 404)
        self.roles.put(role)

    def list_role_policies(self, params: Mapping[str, str]) -> dict[str, Any]:
        return {"PolicyNames": sorted(self.role(params).inline), "IsTruncated": False}


def create_iam_app(redis: Redis) -> QueryApp:
    actions = IamActions(redis)
    return QueryApp("IAM", IAM_NAMESPACE, {
        "CreateRole": actions.create_role, "GetRole": actions.get_role,
        "ListRoles": actions.list_roles, "DeleteRole": actions.delete_role,
        "AttachRolePolicy": actions.attach_role_policy,
        "DetachRolePolicy": actions.detach_role_policy,
        "ListAttachedRolePolicies": actions.list_attached_role_policies,
        "PutRolePolicy": actions.put_role_policy, "GetRolePolicy": actions.get_role_policy,
        "DeleteRolePolicy": actions.delete_role_policy,
        "ListRolePolicies": actions.list_role_policies,
    })


def _caller_identity(_: Mapping[str, str]) -> dict[str, str]:
    return {"UserId": ACCOUNT_ID, "Account": ACCOUNT_ID, "Arn": f"arn:aws:iam::{ACCOUNT_ID}:root"}


def _assume_role(params: Mapping[str, str]) -> dict[str, Any]:
    """Credentials that work against ripple like any others (it checks none)."""
    arn = _required(params, "RoleArn")
    session = _required(params, "RoleSessionName")
    seconds = int(params.get("DurationSeconds") or 3600)
    expires = datetime.now(UTC) + timedelta(seconds=seconds)
    role = arn.rsplit("/", 1)[-1]
    return {
        "Credentials": {"AccessKeyId": "ASIARIPPLE0000000000", "SecretAccessKey": "ripple",
                        "SessionToken": "ripple", "Expiration":
                            expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "AssumedRoleUser": {"AssumedRoleId": f"AROARIPPLE:{session}",
                            "Arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/{session}"},
    }


def create_sts_app() -> QueryApp:
    return QueryApp("STS", STS_NAMESPACE, {"GetCallerIdentity": _caller_identity,
                                           "AssumeRole": _assume_role})

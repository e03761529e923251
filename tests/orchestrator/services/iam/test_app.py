"""IAM and STS as deploy scripts call them first: roles and policies recorded and answered in
AWS's shape (never enforced)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Ripple

TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _client(ripple: Ripple, service: str) -> Any:
    return boto3.client(service, endpoint_url=ripple.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def test_role_is_recorded_and_answered(ripple: Ripple) -> None:
    # Given a role created with a trust policy, a managed policy and an inline policy
    iam = _client(ripple, "iam")
    created = iam.create_role(RoleName="deploy-role", AssumeRolePolicyDocument=json.dumps(TRUST),
                              Description="for the pipeline")["Role"]
    iam.attach_role_policy(RoleName="deploy-role", PolicyArn=BASIC)
    iam.put_role_policy(RoleName="deploy-role", PolicyName="tables",
                        PolicyDocument=json.dumps(POLICY))
    # When it is read back
    role = iam.get_role(RoleName="deploy-role")["Role"]
    attached = iam.list_attached_role_policies(RoleName="deploy-role")["AttachedPolicies"]
    inline = iam.get_role_policy(RoleName="deploy-role", PolicyName="tables")
    # Then IAM's shapes come back, with the documents as given
    assert created["Arn"] == role["Arn"] == "arn:aws:iam::000000000000:role/deploy-role"
    assert role["RoleId"].startswith("AROA")
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert role["Description"] == "for the pipeline"
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}]
    assert inline["PolicyDocument"] == POLICY
    assert "deploy-role" in [each["RoleName"] for each in iam.list_roles()["Roles"]]


def test_role_errors(ripple: Ripple) -> None:
    # Given a role that exists
    iam = _client(ripple, "iam")
    iam.create_role(RoleName="twice", AssumeRolePolicyDocument=json.dumps(TRUST))
    # When it is created again, a missing one is read, and a bad document is given
    with pytest.raises(ClientError) as again:
        iam.create_role(RoleName="twice", AssumeRolePolicyDocument=json.dumps(TRUST))
    with pytest.raises(ClientError) as missing:
        iam.get_role(RoleName="nobody")
    with pytest.raises(ClientError) as malformed:
        iam.put_role_policy(RoleName="twice", PolicyName="p", PolicyDocument="{not json")
    # Then each is IAM's error
    assert again.value.response["Error"]["Code"] == "EntityAlreadyExists"
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
    assert missing.value.response["Error"]["Message"] == (
        "The role with name nobody cannot be found.")
    assert malformed.value.response["Error"]["Code"] == "MalformedPolicyDocument"


def test_caller_identity(ripple: Ripple) -> None:
    # Given ripple's STS
    sts = _client(ripple, "sts")
    # When a script asks who it is
    identity = sts.get_caller_identity()
    # Then it is the root of ripple's one account
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"

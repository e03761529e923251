"""X-Ray's `origin` (a service map node's `Type`) for a service ripple does not run, from what
its OpenTelemetry resource says about where it runs.

The mapping is the one AWS's OpenTelemetry exporters to X-Ray use (`cloud.platform` →
`AWS::EC2::Instance`, …). A service that names no platform (a program on a laptop, the usual
case beside ripple) gets no origin, and its node the type X-Ray's `GetServiceGraph` reserves
for a service of indeterminate type: `remote`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INDETERMINATE = "remote"
PLATFORMS = {
    "aws_ec2": "AWS::EC2::Instance",
    "aws_ecs": "AWS::ECS::Container",
    "aws_eks": "AWS::EKS::Container",
    "aws_elastic_beanstalk": "AWS::ElasticBeanstalk::Environment",
    "aws_app_runner": "AWS::AppRunner::Service",
}


def origin(attributes: Mapping[str, Any], resource: Mapping[str, Any]) -> str | None:
    """The segment origin of a span with these attributes and resource, if one is known: an
    X-Ray origin carried as is (a converted X-Ray segment's), else the resource's platform."""
    carried = attributes.get("cloud.platform")
    if isinstance(carried, str) and carried.startswith("AWS::"):
        return carried
    return PLATFORMS.get(str(resource.get("cloud.platform", "")))


def node_type(attributes: Mapping[str, Any], resource: Mapping[str, Any]) -> str:
    """The node type of such a service: its origin, else `remote`."""
    return origin(attributes, resource) or INDETERMINATE

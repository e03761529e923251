"""A bucket's notification configuration: the XML of Put/GetBucketNotificationConfiguration
and the dict ripple stores, shaped like boto3's (`LambdaFunctionConfigurations`, `Id`,
`LambdaFunctionArn`, `Events`, `Filter.Key.FilterRules`). What is put is returned as it was;
only a missing `Id` is filled in, as S3 does."""

from __future__ import annotations

import uuid
from typing import Any

from orchestrator.services.s3.errors import InvalidArgument, MalformedXML
from orchestrator.services.s3.xml import Content, Element, document, parse, text
from orchestrator.spec import S3_EVENTS

Configuration = dict[str, Any]
# (XML element, boto3 list name, XML element of the target, boto3 name of the target)
KINDS = (
    ("TopicConfiguration", "TopicConfigurations", "Topic", "TopicArn"),
    ("QueueConfiguration", "QueueConfigurations", "Queue", "QueueArn"),
    ("CloudFunctionConfiguration", "LambdaFunctionConfigurations", "CloudFunction",
     "LambdaFunctionArn"),
)
FILTER_NAMES = ("prefix", "suffix")


def from_xml(body: bytes) -> Configuration:
    """Parse and validate a PutBucketNotificationConfiguration body (empty: no rules)."""
    if not body.strip():
        return {}
    root = parse(body, "NotificationConfiguration")
    configuration: Configuration = {}
    for element_tag, list_name, target_tag, target_name in KINDS:
        rules = [_rule(element, target_tag, target_name) for element in root.findall(element_tag)]
        if rules:
            configuration[list_name] = rules
    if root.find("EventBridgeConfiguration") is not None:
        configuration["EventBridgeConfiguration"] = {}
    return configuration


def _rule(element: Element, target_tag: str, target_name: str) -> dict[str, Any]:
    target = text(element, target_tag)
    events = [event.text or "" for event in element.findall("Event")]
    if not target:
        raise InvalidArgument(f"A {target_tag} ARN is required", ArgumentName=target_tag)
    if not events:
        raise MalformedXML()
    for event in events:
        if event not in S3_EVENTS:
            raise InvalidArgument("The event is not supported for notifications",
                                  ArgumentName=event, ArgumentValue=event)
    rule: dict[str, Any] = {"Id": text(element, "Id") or str(uuid.uuid4()),
                            target_name: target, "Events": events}
    key_filter = element.find("Filter/S3Key")
    if key_filter is not None:
        rules = []
        for filter_rule in key_filter.findall("FilterRule"):
            name = text(filter_rule, "Name") or ""
            value = text(filter_rule, "Value") or ""
            if name.lower() not in FILTER_NAMES:
                raise InvalidArgument("filter rule name must be either prefix or suffix",
                                      ArgumentName="FilterRule.Name", ArgumentValue=name)
            rules.append({"Name": name, "Value": value})
        names = [rule["Name"].lower() for rule in rules]
        if len(set(names)) != len(names):
            raise InvalidArgument("Cannot specify more than one prefix rule in a filter."
                                  if names.count("prefix") > 1 else
                                  "Cannot specify more than one suffix rule in a filter.",
                                  ArgumentName="FilterRule.Name")
        rule["Filter"] = {"Key": {"FilterRules": rules}}
    return rule


def to_xml(configuration: Configuration) -> bytes:
    """GetBucketNotificationConfiguration's answer."""
    content: list[tuple[str, Content]] = []
    for element_tag, list_name, target_tag, target_name in KINDS:
        for rule in configuration.get(list_name, []):
            children: list[tuple[str, Content]] = [("Id", rule["Id"]),
                                                   (target_tag, rule[target_name])]
            children += [("Event", event) for event in rule["Events"]]
            filter_rules = rule.get("Filter", {}).get("Key", {}).get("FilterRules")
            if filter_rules is not None:
                children.append(("Filter", [("S3Key", [
                    ("FilterRule", [("Name", item["Name"]), ("Value", item["Value"])])
                    for item in filter_rules])]))
            content.append((element_tag, children))
    if "EventBridgeConfiguration" in configuration:
        content.append(("EventBridgeConfiguration", []))
    return document("NotificationConfiguration", content)


def key_filters(rule: dict[str, Any]) -> tuple[str, str]:
    """A rule's (prefix, suffix); "" where it has none."""
    found = {"prefix": "", "suffix": ""}
    for item in rule.get("Filter", {}).get("Key", {}).get("FilterRules", []):
        found[item["Name"].lower()] = item["Value"] or ""
    return found["prefix"], found["suffix"]


def matches(rule: dict[str, Any], event_name: str, key: str) -> bool:
    """Does a rule ask for this event (`ObjectCreated:Put`) on this key? `s3:ObjectCreated:*`
    covers every ObjectCreated event; prefix and suffix filters are case-sensitive."""
    wanted = f"s3:{event_name}"
    if not any(event == wanted or (event.endswith(":*") and wanted.startswith(event[:-1]))
               for event in rule.get("Events", [])):
        return False
    prefix, suffix = key_filters(rule)
    return key.startswith(prefix) and key.endswith(suffix)

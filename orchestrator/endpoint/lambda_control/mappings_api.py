"""Lambda's event source mappings for DynamoDB streams: Create/Get/List/Update/Delete
EventSourceMapping. A mapping made here is polled by the same stream pollers as a spec's
`dynamodb` trigger (`workers/streams/mapping.py` reads both); the spec's triggers are listed
too, and are changed through the spec."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from orchestrator.endpoint.lambda_control.configuration import destination
from orchestrator.endpoint.lambda_control.requests import (
    body_of,
    field,
    function_arn,
    latest,
    registry,
    versions,
)
from orchestrator.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from orchestrator.functions.event_sources import (
    EventSourceMapping,
    EventSourceMappings,
    spec_uuid,
)
from orchestrator.functions.versions import LATEST
from orchestrator.invocations.invoke import function_name, function_qualifier
from orchestrator.services.calls import name_operation
from orchestrator.services.dynamodb.errors import DynamoDBError
from orchestrator.services.dynamodb.store import Store

router = APIRouter()
PATH = "/2015-03-31/event-source-mappings"
# Lambda's parameter -> (EventSourceMapping field, low, high)
LIMITS = {"BatchSize": ("batch_size", 1, 10_000),
          "MaximumBatchingWindowInSeconds": ("batching_window", 0, 300),
          "MaximumRetryAttempts": ("maximum_retry_attempts", -1, 10_000),
          "MaximumRecordAgeInSeconds": ("maximum_record_age", -1, 604_800),
          "ParallelizationFactor": ("parallelization_factor", 1, 10)}


@router.post(PATH, status_code=202)
@router.post(PATH + "/", status_code=202, include_in_schema=False)
async def create_mapping(request: Request) -> dict[str, Any]:
    name_operation("Lambda", "CreateEventSourceMapping", {})
    body = await body_of(request)
    target = field(body, "FunctionName", str, required=True) or ""
    function = latest(request, target)
    qualifier = function_qualifier(target)
    if qualifier != LATEST and _missing(request, function.name, qualifier):
        raise ResourceNotFound(f"Function not found: {function_arn(function.name, qualifier)}")
    arn = field(body, "EventSourceArn", str, required=True) or ""
    table = _stream_table(request, arn)
    starting = field(body, "StartingPosition", str)
    if starting not in ("LATEST", "TRIM_HORIZON"):
        raise InvalidParameterValue("StartingPosition must be LATEST or TRIM_HORIZON for a "
                                    "DynamoDB stream" + (" (AT_TIMESTAMP is Kinesis's)"
                                                         if starting else ""))
    mappings = EventSourceMappings(registry(request).redis)
    for existing in mappings.all():
        if existing.function == function.name and existing.stream_arn == arn:
            raise ResourceConflict(f"The event source arn ({arn}) and function "
                                   f"({function.name}) provided mapping already exists. "
                                   f"Please update or delete the existing mapping with UUID "
                                   f"{existing.uuid}")
    mapping = EventSourceMapping(uuid="", function=function.name, qualifier=qualifier,
                                 table=table, stream_arn=arn, starting_position=starting)
    mapping = mappings.create(_options(mapping, body))
    return {**shape(mapping), "State": "Creating" if mapping.enabled else "Disabled"}


@router.get(PATH)
@router.get(PATH + "/", include_in_schema=False)
async def list_mappings(request: Request) -> dict[str, Any]:
    name_operation("Lambda", "ListEventSourceMappings", {})
    wanted_function = request.query_params.get("FunctionName")
    wanted_arn = request.query_params.get("EventSourceArn")
    found = [*_declared(request), *EventSourceMappings(registry(request).redis).all()]
    if wanted_function:
        found = [each for each in found if each.function == function_name(wanted_function)]
    if wanted_arn:
        found = [each for each in found if each.stream_arn == wanted_arn]
    return {"EventSourceMappings": [shape(each) for each in found]}


@router.get(PATH + "/{mapping_uuid}")
async def get_mapping(mapping_uuid: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "GetEventSourceMapping", {})
    return shape(_mapping(request, mapping_uuid))


@router.put(PATH + "/{mapping_uuid}", status_code=202)
async def update_mapping(mapping_uuid: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "UpdateEventSourceMapping", {})
    body = await body_of(request)
    mapping = _api_made(request, mapping_uuid)
    target = field(body, "FunctionName", str)
    if target:
        function = latest(request, target)
        mapping.function, mapping.qualifier = function.name, function_qualifier(target)
    mapping = _options(mapping, body)
    mapping.last_modified = time.time()
    EventSourceMappings(registry(request).redis).put(mapping)
    return shape(mapping)


@router.delete(PATH + "/{mapping_uuid}", status_code=202)
async def delete_mapping(mapping_uuid: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "DeleteEventSourceMapping", {})
    mapping = _api_made(request, mapping_uuid)
    EventSourceMappings(registry(request).redis).delete(mapping.uuid)
    return {**shape(mapping), "State": "Deleting"}


def shape(mapping: EventSourceMapping) -> dict[str, Any]:
    """Lambda's EventSourceMappingConfiguration."""
    answer: dict[str, Any] = {
        "UUID": mapping.uuid, "EventSourceArn": mapping.stream_arn,
        "FunctionArn": function_arn(mapping.function, mapping.qualifier),
        "StartingPosition": mapping.starting_position, "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.batching_window,
        "ParallelizationFactor": mapping.parallelization_factor,
        "MaximumRetryAttempts": mapping.maximum_retry_attempts,
        "MaximumRecordAgeInSeconds": mapping.maximum_record_age,
        "BisectBatchOnFunctionError": mapping.bisect_batch_on_function_error,
        "FunctionResponseTypes": (["ReportBatchItemFailures"]
                                  if mapping.report_batch_item_failures else []),
        "LastModified": mapping.last_modified, "LastProcessingResult": "OK",
        "State": "Enabled" if mapping.enabled else "Disabled",
        "StateTransitionReason": "USER_INITIATED",
    }
    if mapping.on_failure:
        answer["DestinationConfig"] = {"OnFailure": {"Destination": mapping.on_failure_arn or
                                                     function_arn(mapping.on_failure)}}
    return answer


def _options(mapping: EventSourceMapping, body: dict[str, Any]) -> EventSourceMapping:
    """`mapping` with the settings the body gives."""
    if body.get("FilterCriteria"):
        raise InvalidParameterValue("ripple's event source mappings do not filter records: "
                                    "FilterCriteria is not supported")
    update: dict[str, Any] = {}
    for parameter, (attribute, low, high) in LIMITS.items():
        value = field(body, parameter, int)
        if value is not None:
            if not low <= value <= high:
                raise InvalidParameterValue(f"{parameter} must be between {low} and {high}, "
                                            f"not {value}")
            update[attribute] = value
    for parameter, attribute in (("Enabled", "enabled"),
                                 ("BisectBatchOnFunctionError",
                                  "bisect_batch_on_function_error")):
        flag = field(body, parameter, bool)
        if flag is not None:
            update[attribute] = flag
    types = field(body, "FunctionResponseTypes", list)
    if types is not None:
        update["report_batch_item_failures"] = "ReportBatchItemFailures" in types
    on_failure = ((field(body, "DestinationConfig", dict) or {}).get("OnFailure") or {}
                  ).get("Destination")
    if on_failure is not None:
        update["on_failure"] = destination(on_failure)
        update["on_failure_arn"] = on_failure
    return mapping.model_copy(update=update)


def _stream_table(request: Request, arn: str) -> str:
    """The table whose stream `arn` names; refused unless the stream exists."""
    if ":dynamodb:" not in arn or "/stream/" not in arn or ":table/" not in arn:
        raise InvalidParameterValue(f"ripple's event source mappings read DynamoDB streams "
                                    f"only; {arn} is not a DynamoDB stream ARN")
    name = arn.split(":table/", 1)[1].split("/stream/", 1)[0]
    try:
        table = Store(registry(request).redis, request.app.state.settings.region).table(name)
    except DynamoDBError:
        table = None
    if table is None or table.stream_arn != arn:
        raise InvalidParameterValue(f"Stream not found: {arn}")
    return name


def _declared(request: Request) -> list[EventSourceMapping]:
    """The spec's `dynamodb` triggers, as the API shows them."""
    store = Store(registry(request).redis, request.app.state.settings.region)
    found = []
    for function in registry(request).all():
        for index, trigger in enumerate(function.events):
            options = trigger.get("dynamodb")
            if options is None:
                continue
            try:
                arn = store.table(options["table"]).stream_arn or ""
            except DynamoDBError:
                arn = ""
            known = {key: value for key, value in options.items()
                     if key in EventSourceMapping.model_fields and key != "table"}
            found.append(EventSourceMapping(
                uuid=spec_uuid(f"{function.name}:{options['table']}:{index}"),
                function=function.name, table=options["table"], stream_arn=arn, declared=True,
                **known))
    return found


def _mapping(request: Request, mapping_uuid: str) -> EventSourceMapping:
    mapping = EventSourceMappings(registry(request).redis).get(mapping_uuid)
    if mapping is None:
        mapping = next((each for each in _declared(request) if each.uuid == mapping_uuid),
                       None)
    if mapping is None:
        raise ResourceNotFound(f"The resource you requested does not exist. (Service: Lambda, "
                               f"Status Code: 404, Request ID: {mapping_uuid})")
    return mapping


def _api_made(request: Request, mapping_uuid: str) -> EventSourceMapping:
    mapping = _mapping(request, mapping_uuid)
    if mapping.declared:
        raise InvalidParameterValue(f"Event source mapping {mapping_uuid} is the `dynamodb` "
                                    f"trigger of {mapping.function} in its spec: change the "
                                    "spec and deploy it")
    return mapping


def _missing(request: Request, name: str, qualifier: str) -> bool:
    store = versions(request)
    return store.alias(name, qualifier) is None and store.get(name, qualifier) is None

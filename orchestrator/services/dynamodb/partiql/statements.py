"""ExecuteStatement and BatchExecuteStatement: each PartiQL statement becomes the item operation
it means (SELECT a Query when the WHERE fixes the partition key, else a Scan; INSERT a PutItem
that refuses an existing key; UPDATE and DELETE on the one item the WHERE names), so every rule
and error of those operations holds for PartiQL too."""

from __future__ import annotations

import base64
import json
from typing import Any

import lark

from orchestrator.services.dynamodb import items, reads
from orchestrator.services.dynamodb.errors import (
    ConditionalCheckFailed,
    DuplicateItem,
    DynamoDBError,
    ValidationError,
)
from orchestrator.services.dynamodb.indexes import find
from orchestrator.services.dynamodb.partiql.translate import (
    Rendered,
    conjuncts,
    key_equality,
    parse,
    target,
    unquote,
)
from orchestrator.services.dynamodb.store import Store

NO_KEY = "Where clause does not contain a mandatory equality on all key attributes"
BATCH_CODES = {"ConditionalCheckFailedException": "ConditionalCheckFailed",
               "ValidationException": "ValidationError", "DuplicateItemException": "DuplicateItem",
               "ResourceNotFoundException": "ResourceNotFound",
               "TransactionConflictException": "TransactionConflict"}


def execute_statement(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    return run(store, request.get("Statement"), request.get("Parameters") or [], request)


def batch_execute_statement(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    statements = request.get("Statements") or []
    if not 1 <= len(statements) <= 25:
        raise ValidationError("1 validation error detected: Value at 'statements' failed to "
                              "satisfy constraint: Member must have length less than or equal "
                              "to 25 and greater than or equal to 1")
    responses: list[dict[str, Any]] = []
    for given in statements:
        text = given.get("Statement")
        try:
            answer = run(store, text, given.get("Parameters") or [], given, single=True)
            found = answer.get("Items") or []
            response = {"TableName": target(_target_node(parse(text)))[0]}
            responses.append(response | ({"Item": found[0]} if found else {}))
        except DynamoDBError as error:
            responses.append({"Error": {"Code": BATCH_CODES.get(error.code, error.code),
                                        "Message": error.message}})
    return {"Responses": responses}


def _target_node(tree: lark.Tree) -> lark.Tree:
    return next(child for child in tree.children
                if isinstance(child, lark.Tree) and child.data == "target")


def run(store: Store, statement: Any, parameters: list[Any], request: dict[str, Any],
        single: bool = False) -> dict[str, Any]:
    tree = parse(statement)
    rendered = Rendered(list(parameters))
    name, index = target(_target_node(tree))
    where = tree.children[-1] if tree.data != "insert" and tree.children[-1] is not None \
        and tree.children[-1].data not in ("target", "set_action", "remove_action", "columns",
                                           "all_columns") else None
    operation = {"select": _select, "insert": _insert, "update": _update, "delete": _delete}
    answer = operation[tree.data](store, tree, rendered, name, index, where, request, single)
    if rendered.used != len(parameters):
        raise ValidationError("Number of parameters in request and statement don't match.")
    return answer


def _select(store: Store, tree: lark.Tree, rendered: Rendered, name: str, index: str | None,
            where: lark.Tree | None, request: dict[str, Any], single: bool) -> dict[str, Any]:
    table = store.table(name, "item")
    schema = find(table, index) if index else table
    columns = tree.children[0]
    query: dict[str, Any] = {"TableName": name}
    if index:
        query["IndexName"] = index
    if columns.data == "columns":
        query["ProjectionExpression"] = ", ".join(rendered.path(path) for path in columns.children)
    parts = [(part, rendered.condition(part)) for part in conjuncts(where)]
    keyed = [(part, text) for part, text in parts
             if _subject(part) in (schema.hash_key, schema.range_key)]
    by_hash = any((key_equality(part) or ("",))[0] == schema.hash_key for part, _ in keyed)
    if single and not by_hash:
        raise ValidationError(NO_KEY)
    if by_hash:
        query["KeyConditionExpression"] = " AND ".join(text for _, text in keyed)
        rest = [text for part, text in parts if all(part is not k for k, _ in keyed)]
    else:
        rest = [text for _, text in parts]
    if rest:
        query["FilterExpression"] = " AND ".join(rest)
    query |= rendered.expression_parameters()
    for option in ("Limit", "ConsistentRead"):
        if option in request:
            query[option] = request[option]
    if request.get("NextToken"):
        query["ExclusiveStartKey"] = json.loads(base64.b64decode(request["NextToken"]))
    answer = (reads.query if by_hash else reads.scan)(store, query)
    result: dict[str, Any] = {"Items": answer.get("Items", [])}
    if "LastEvaluatedKey" in answer:
        result["NextToken"] = base64.b64encode(json.dumps(answer["LastEvaluatedKey"]).encode()
                                               ).decode()
    return result


def _subject(part: lark.Tree) -> str | None:
    """The attribute a simple condition is about (`a = …`, `a BETWEEN …`, begins_with(a, …))."""
    if part.data in ("compare", "between"):
        path = part.children[0]
    elif part.data == "function" and str(part.children[0]) == "begins_with":
        path = part.children[1]
    else:
        return None
    if not isinstance(path, lark.Tree) or path.data != "path" or len(path.children) != 1:
        return None
    element = path.children[0]
    text = str(element.children[0])
    return unquote(text, '"') if element.data == "quoted" else text


def _insert(store: Store, tree: lark.Tree, rendered: Rendered, name: str, index: str | None,
            where: lark.Tree | None, request: dict[str, Any], single: bool) -> dict[str, Any]:
    table = store.table(name, "item")
    item = rendered.literal(tree.children[1])
    if "M" not in item:
        raise ValidationError("Unsupported operation: Inserting a value that is not a tuple")
    try:
        items.put_item(store, {"TableName": name, "Item": item["M"],
                               "ConditionExpression": "attribute_not_exists(#k)",
                               "ExpressionAttributeNames": {"#k": table.hash_key}})
    except ConditionalCheckFailed:
        raise DuplicateItem("Duplicate primary key exists in table") from None
    return {}


def _key_and_condition(store: Store, name: str, rendered: Rendered,
                       where: lark.Tree | None) -> tuple[dict[str, Any], list[str]]:
    table = store.table(name, "item")
    key: dict[str, Any] = {}
    conditions = []
    for part in conjuncts(where):
        equality = key_equality(part)
        if equality and equality[0] in table.key_names and equality[0] not in key:
            key[equality[0]] = rendered.literal(equality[1])
        else:
            conditions.append(rendered.condition(part))
    if set(key) != set(table.key_names):
        raise ValidationError(NO_KEY)
    return key, conditions


def _update(store: Store, tree: lark.Tree, rendered: Rendered, name: str, index: str | None,
            where: lark.Tree | None, request: dict[str, Any], single: bool) -> dict[str, Any]:
    clauses = []
    for action in tree.children[1:]:
        if not isinstance(action, lark.Tree) or action is where:
            continue
        if action.data == "set_action":
            clauses.append("SET " + ", ".join(_assignment(rendered, node)
                                              for node in action.children))
        else:
            clauses.append("REMOVE " + ", ".join(rendered.path(path) for path in action.children))
    key, conditions = _key_and_condition(store, name, rendered, where)
    exists = f"attribute_exists({rendered.name(next(iter(key)))})"
    items.update_item(store, {"TableName": name, "Key": key,
                              "UpdateExpression": " ".join(clauses),
                              "ConditionExpression": " AND ".join([exists, *conditions]),
                              **rendered.expression_parameters()})
    return {}


def _assignment(rendered: Rendered, node: lark.Tree) -> str:
    path, first = rendered.path(node.children[0]), rendered.operand(node.children[1])
    if len(node.children) == 2 or node.children[2] is None:
        return f"{path} = {first}"
    return f"{path} = {first} {node.children[2]} {rendered.operand(node.children[3])}"


def _delete(store: Store, tree: lark.Tree, rendered: Rendered, name: str, index: str | None,
            where: lark.Tree | None, request: dict[str, Any], single: bool) -> dict[str, Any]:
    key, conditions = _key_and_condition(store, name, rendered, where)
    request = {"TableName": name, "Key": key, **rendered.expression_parameters()}
    if conditions:
        request["ConditionExpression"] = " AND ".join(conditions)
    items.delete_item(store, request)
    return {}

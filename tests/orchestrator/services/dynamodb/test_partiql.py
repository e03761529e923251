"""PartiQL: ExecuteStatement and BatchExecuteStatement through boto3, as DynamoDB answers them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.orchestrator.services.dynamodb.conftest import NewTable


def run(dynamodb: Any, statement: str, *parameters: Any, **extra: Any) -> dict[str, Any]:
    given = {"Parameters": list(parameters)} if parameters else {}
    answer: dict[str, Any] = dynamodb.execute_statement(Statement=statement, **given, **extra)
    return answer


def test_insert_select_update_delete(dynamodb: Any, new_table: NewTable) -> None:
    # Given a table
    name = new_table(pk="S", sk="N")
    # When items are inserted with literals and parameters
    run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'sk': 1, 'tags': <<'x', 'y'>>, "
                  "'m': {'deep': [1, true, null]}}")
    for number in (2, 3):
        run(dynamodb, f'INSERT INTO "{name}" VALUE {{\'pk\': ?, \'sk\': ?, \'n\': ?}}',
            {"S": "a"}, {"N": str(number)}, {"N": str(number * 10)})
    # Then SELECT with the partition key reads them in key order, projected and filtered
    found = run(dynamodb, f'SELECT sk, n FROM "{name}" WHERE pk = ? AND sk >= 2', {"S": "a"})
    assert found["Items"] == [{"sk": {"N": "2"}, "n": {"N": "20"}},
                              {"sk": {"N": "3"}, "n": {"N": "30"}}]
    first = run(dynamodb, f"SELECT * FROM \"{name}\" WHERE pk = 'a' AND sk = 1")["Items"]
    assert first == [{"pk": {"S": "a"}, "sk": {"N": "1"}, "tags": {"SS": ["x", "y"]},
                      "m": {"M": {"deep": {"L": [{"N": "1"}, {"BOOL": True}, {"NULL": True}]}}}}]
    # And SELECT without the key scans with the WHERE as a filter
    assert len(run(dynamodb, f'SELECT * FROM "{name}" WHERE n > 15')["Items"]) == 2
    # When an item is updated and another deleted
    run(dynamodb, f"UPDATE \"{name}\" SET n = n + ?, label = 'two' REMOVE tags "
                  "WHERE pk = 'a' AND sk = 2", {"N": "5"})
    run(dynamodb, f"DELETE FROM \"{name}\" WHERE pk = 'a' AND sk = 3")
    # Then the table shows both
    left = dynamodb.scan(TableName=name)["Items"]
    assert sorted(item["sk"]["N"] for item in left) == ["1", "2"]
    second = dynamodb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "2"}})["Item"]
    assert second["n"] == {"N": "25"} and second["label"] == {"S": "two"}


def test_partiql_errors_as_dynamodb_words_them(dynamodb: Any, new_table: NewTable) -> None:
    name = new_table(pk="S")
    run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a'}}")
    cases = [
        (f"INSERT INTO \"{name}\" VALUE {{'pk': 'a'}}", (),
         ("DuplicateItemException", "Duplicate primary key exists in table")),
        (f"UPDATE \"{name}\" SET x = 1 WHERE pk = 'missing'", (),
         ("ConditionalCheckFailedException", "The conditional request failed")),
        (f"DELETE FROM \"{name}\" WHERE x = 1", (),
         ("ValidationException", "Where clause does not contain a mandatory equality on all "
                                 "key attributes")),
        (f"SELECT * FROM \"{name}\" WHERE pk = ?", ({"S": "a"}, {"S": "b"}),
         ("ValidationException", "Number of parameters in request and statement don't match.")),
    ]
    for statement, parameters, (code, message) in cases:
        with pytest.raises(ClientError) as caught:
            run(dynamodb, statement, *parameters)
        assert caught.value.response["Error"] == {"Code": code, "Message": message}
    with pytest.raises(ClientError) as caught:
        run(dynamodb, f'SELEKT * FROM "{name}"')
    assert caught.value.response["Error"]["Message"].startswith(
        "Statement wasn't well formed, can't be processed: ")


def test_batch_execute_statement(dynamodb: Any, new_table: NewTable) -> None:
    # Given a table with one item
    name = new_table(pk="S")
    run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'v': 1}}")
    # When a batch inserts one, reads one, and inserts a duplicate
    answer = dynamodb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': ?}}", "Parameters": [{"S": "b"}]},
        {"Statement": f"SELECT * FROM \"{name}\" WHERE pk = 'a'"},
        {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'a'}}"}])
    # Then each statement has its own answer, the failure as a BatchStatementError
    assert answer["Responses"] == [
        {"TableName": name},
        {"TableName": name, "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}},
        {"Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}}]

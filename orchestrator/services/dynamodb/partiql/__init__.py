"""PartiQL for DynamoDB: ExecuteStatement and BatchExecuteStatement."""

"""AWS services simulated on Redis: S3 and DynamoDB, each an ASGI app the endpoint routes to."""

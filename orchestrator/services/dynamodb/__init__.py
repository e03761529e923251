"""Simulated DynamoDB on Redis (JSON 1.0 protocol), with DynamoDB Streams records."""

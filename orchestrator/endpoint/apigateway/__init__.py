"""The API Gateway stage: the `http` routes of deployed functions, served on their own port,
each request invoking its function synchronously with an API Gateway proxy event."""

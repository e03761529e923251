"""DynamoDB stream event source mappings: pollers that read shards in order and invoke in
batches, one owner per shard at a time (a Redis lease), resuming from a checkpoint."""

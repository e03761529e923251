"""The Redis keys of simulated DynamoDB, all under `ripple:ddb:`."""

TABLES = "ripple:ddb:tables"  # zset (all scores 0, so ordered by name): table names


def table(name: str) -> str:
    """Hash: `definition` (JSON), `id` (changes when a table is recreated), `count`, `size`."""
    return f"ripple:ddb:table:{name}"


def partitions(name: str) -> str:
    """Zset (scores 0): the encoded partition keys that hold items, in byte order."""
    return f"ripple:ddb:partitions:{name}"


def items(name: str, partition: str) -> str:
    """Hash: encoded sort key ("" without one) -> item JSON."""
    return f"ripple:ddb:items:{name}:{partition}"


def order(name: str, partition: str) -> str:
    """Zset (scores 0): the partition's encoded sort keys, in DynamoDB's sort order."""
    return f"ripple:ddb:order:{name}:{partition}"


def stream(name: str, shard: int) -> str:
    """Redis stream of one shard's DynamoDB stream records (fields `record` and `trace`)."""
    return f"ripple:ddb:stream:{name}:{shard}"


def index(name: str, index_name: str, part: str) -> str:
    """An index's own `items`/`order` (per index partition) and `partitions` keys: the same
    shapes as a table's, under a prefix no table's keys can share (names hold no `:`)."""
    return f"ripple:ddb:index:{name}:{index_name}:{part}"

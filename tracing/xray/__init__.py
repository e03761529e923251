"""X-Ray segment documents coming in: what Powertools' Tracer and the X-Ray SDKs send to the
X-Ray daemon over UDP (`daemon.py`) or to `PutTraceSegments`, read and checked
(`documents.py`), turned into ripple's spans (`conversion.py`, `attributes.py`) and stored
(`ingest.py`). The inverse of `tracing/segments.py`."""

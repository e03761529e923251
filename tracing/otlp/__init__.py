"""OTLP's two encodings, protobuf and JSON, read into ripple's spans (and JSON written)."""

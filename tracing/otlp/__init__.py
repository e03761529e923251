"""OTLP in: the receiver and the protobuf and JSON formats it reads."""

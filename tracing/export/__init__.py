"""Where spans go: OTLP/JSON over HTTP, straight into the local store, forwarded on."""

"""Simulated S3 on Redis (REST/XML protocol), with event notifications to Lambda."""

"""Builders of the events AWS emits, field for field."""

"""The function model: configuration, registry, code packages, deploys."""

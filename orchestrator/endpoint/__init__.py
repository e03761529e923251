"""The endpoint's routers: Lambda's API, ripple's control API, health."""

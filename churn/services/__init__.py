"""Stateful services the use cases share: which version is active, which version scores a request."""

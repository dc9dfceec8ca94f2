"""Use cases: one class per file, one public `execute`. Ports arrive in __init__."""

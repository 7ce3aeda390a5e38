"""Static scanners of the code base's architecture, used by tests/test_architecture.py."""

"""The tests' shared harness: the one place test modules import helpers from (never from a
conftest.py, which holds fixtures only)."""

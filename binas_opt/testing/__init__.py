"""Helpers for testing: synthetic problems and the backend conformance suite."""

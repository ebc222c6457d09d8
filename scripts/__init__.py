"""Maintenance scripts: generators whose output is committed (see each module)."""

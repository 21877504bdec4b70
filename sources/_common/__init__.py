"""Helpers shared by the sources that are not HTTP: time parsing, windows, record shaping, run context."""

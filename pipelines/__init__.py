"""The nightly job and its command line: ``python -m pipelines run|status|report``."""

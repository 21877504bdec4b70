"""``make bench`` (``python -m benchmarks``): the pipeline's throughput, requests and memory against the emulated
APIs, next to DuckDB's ``read_json`` and a plain dlt ``rest_api`` source; results go to ``BENCHMARKS.md``."""

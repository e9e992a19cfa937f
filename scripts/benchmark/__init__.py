"""The performance benchmark behind ``scripts/bench.py``, split by concern."""

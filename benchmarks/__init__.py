"""Benchmarks of the companion's custom ops against the frameworks' built-ins.

Run with ``python -m benchmarks`` (``make bench``); pytest does not collect them.
"""

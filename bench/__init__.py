"""Benchmarks: measured against a floor taken in the same run (see bench/README.md).

Nothing here runs in CI except ``tests/reliability/test_bench_smoke.py``, which runs
every script in its tiny ``--quick`` mode so the scripts cannot rot.
"""

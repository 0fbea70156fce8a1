"""Benchmarks: `python3 dev.py bench` measures our paths beside their anchors in the same run."""

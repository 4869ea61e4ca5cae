"""Benchmarks: kb's costs measured beside the raw cost of their parts in the same run (`make bench`)."""

"""Tools for developers of the generator: the benchmark and the Chromium driver."""

"""Code tests and benchmarks share: generators of test data that the app itself never uses."""

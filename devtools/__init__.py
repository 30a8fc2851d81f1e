"""Development tools, not shipped with the package: the benchmark harness and the
OpenAI-compatible fake model server the tests and the benchmark talk to."""

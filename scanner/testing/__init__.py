"""Test helpers shipped with the library, for the tests and the benchmarks alike (as
numpy.testing or prefect.testing): a local HTTP server that serves recorded feeds and
misbehaves on purpose, and hostile feed bodies. The pipeline never imports them."""

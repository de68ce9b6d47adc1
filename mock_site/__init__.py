"""A bundled imitation of the CCW portal, for tests, demos and benchmarks."""

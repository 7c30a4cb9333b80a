"""Data for the demo and the benchmarks: made through the services (the demo) or bulk-written
(the large organisation). Called by the ``seed_demo`` command and the tests, never by the
product."""

"""Data contracts (Great Expectations suites, one per staged dataset) and the SQL tables."""

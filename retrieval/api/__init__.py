"""The HTTP API (version 1); only retrieval.urls imports it."""

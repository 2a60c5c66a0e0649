"""Resolvers and per-request DataLoaders, one module per domain."""

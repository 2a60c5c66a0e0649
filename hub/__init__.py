"""One-table data hub: one GraphQL schema for grassroots base data."""

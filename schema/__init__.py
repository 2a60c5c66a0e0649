"""The one GraphQL schema: types per domain, assembled in `schema.build`."""

"""The rules of the data, without GraphQL: a caller's context, the write path (checks, versions, history).

Imports `hub.access` and `hub.data`."""

"""The HTTP face: the Starlette app, GraphQL over HTTP, exports, uploads, GraphiQL, signing in."""

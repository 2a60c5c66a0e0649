"""The data: tables (models), the database engine, migrations, and the formats of identifiers.

The lowest layer: it imports nothing else of the hub."""

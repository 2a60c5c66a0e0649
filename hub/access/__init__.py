"""Who may do what: accounts and tokens, department grants (policy), masking, jurisdiction, the write check, the access log.

Imports only `hub.data`."""

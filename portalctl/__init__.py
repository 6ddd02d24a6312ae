"""portalctl: the Context Portal's command-line client. It talks only to the REST API (docs/api.md)."""

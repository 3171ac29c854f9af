"""The routers of API v1, one module per area; each endpoint validates, calls a service, presents."""

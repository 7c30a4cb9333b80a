"""The REST API v1 (DESIGN.md §6): thin views over the services, one error shape."""

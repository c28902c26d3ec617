"""The gateway (网关): accounts and tokens, routing to the services, rate limits, request ids
and one merged OpenAPI document."""

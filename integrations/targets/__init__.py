"""Delivery targets, one module per integration type; `integrations.registry` maps each
`type:` key to its class (settings.INTEGRATION_TARGETS)."""

"""Scheduled HTTP probes of components: running them (http, tls), claiming and applying
results (services), history queries (history)."""

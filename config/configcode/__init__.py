"""Configuration as code: the catalogue (components, probes, rules, policies, channels, silences,
templates) as one YAML document that export_config writes and apply_config makes true.

It lives in config because it reads and writes every app; each write goes through the owning
app's services (docs/config-as-code.md)."""

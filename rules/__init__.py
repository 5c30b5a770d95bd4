"""The service rules a business writes in rules.toml: reading them, applying them, announcing escalations."""

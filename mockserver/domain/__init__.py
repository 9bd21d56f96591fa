"""Plain-Python domain: state and rules, no HTTP (no Flask import here or below)."""

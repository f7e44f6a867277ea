"""Commands: one module per command group; `main` turns arguments into settings and builds the real objects."""

"""What only the tests use: their settings and the browser steps of the Selenium tests. Not shipped
in the package (pyproject.toml)."""

"""Tools for tests: simulators of the clouds the portal talks to. Never used by the portal itself."""

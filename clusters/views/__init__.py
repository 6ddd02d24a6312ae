"""The clusters app's pages, by topic: clouds, cluster definitions, launched clusters."""

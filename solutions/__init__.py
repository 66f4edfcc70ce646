"""solutions package."""

"""course package."""

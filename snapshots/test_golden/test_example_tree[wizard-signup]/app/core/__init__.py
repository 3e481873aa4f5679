"""Settings and helpers shared by every store and screen."""

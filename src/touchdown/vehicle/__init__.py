"""touchdown.vehicle."""

"""touchdown.sim."""

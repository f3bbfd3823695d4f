"""touchdown.moon.terrain."""

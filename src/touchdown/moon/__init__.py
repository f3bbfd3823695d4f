"""touchdown.moon."""

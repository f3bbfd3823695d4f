"""touchdown.ground."""

"""touchdown.fsw."""

"""touchdown.sensors."""

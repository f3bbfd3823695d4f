"""touchdown.scenario."""

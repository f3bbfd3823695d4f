"""touchdown.report."""

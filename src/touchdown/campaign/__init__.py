"""touchdown.campaign."""

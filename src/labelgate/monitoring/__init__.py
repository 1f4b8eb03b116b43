"""Monitoring: served traffic (the prediction log) against the champion's profile, LFs and settings."""

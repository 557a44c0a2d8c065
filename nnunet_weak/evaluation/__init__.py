"""Scoring predictions against dense truth."""

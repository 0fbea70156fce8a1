"""Workflows: the approval engine and background jobs that drive it."""

"""Heartbeat checks: jobs report to Vigil (pings), and Vigil alerts when a report is overdue."""

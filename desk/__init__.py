"""The embedded Open311 ticket desk (default ticket backend)."""

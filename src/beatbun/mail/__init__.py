"""Talking to people by email: the outgoing queue, message composition, service notices,
marketing consent and campaigns."""

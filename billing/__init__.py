"""Billing: plans and their limits, Stripe customers and subscriptions, webhooks."""

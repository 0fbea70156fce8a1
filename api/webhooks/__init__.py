"""Outgoing webhooks: a tenant's administrators subscribe URLs to record events; every matching
event is POSTed there, signed, after the transaction that caused it commits.

    events.py      which event names an endpoint's patterns match
    subscriber.py  the domain-event subscriber: one WebhookDelivery row per matching endpoint
    tasks.py       the Celery task that sends one delivery inside its tenant's schema
    delivery.py    one attempt (claim, POST, outcome), the retry schedule, the sweep and the purge
    signing.py     Standard Webhooks signatures: secrets, headers, and `verify` for receivers
    targets.py     which URLs may be called (http(s) only; no private addresses: SSRF)
    services.py    what administrators do: endpoints, test events, the delivery log, redelivery

The subscriber is registered by api/apps.py, so every process that publishes events (web, worker,
management commands) delivers them.
"""

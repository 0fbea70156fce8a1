"""The CRM's standard objects: customers, pipeline, opportunities and the rest of quote-to-cash."""

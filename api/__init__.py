"""The REST and GraphQL APIs: thin layers over the service functions. Nothing outside imports from here."""

"""The channel tree: brand -> agents/distributors -> retailers -> ..., with materialised paths."""

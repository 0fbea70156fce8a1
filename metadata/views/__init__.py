"""Saved views: stored definitions (columns, filter, sort, grouping, kanban, calendar, aggregates)
that a user runs against the object's records through the one scope filter and the one filter
compiler.

- models.py: `SavedView`;
- definition.py: a definition's JSON Schema and its registry checks, errors per field;
- visibility.py: which views a user may see (private, role, team, everyone, dealer level);
- services.py: create, change, delete, list, the default view of a role;
- run.py: a page of records (keyset pagination) and calendar entries; groups.py: group-by
  aggregates and kanban boards.

Fields are named as in the filter language: a standard field by name ("industry"), a custom one
by its path ("custom.tier").
"""

"""How /graphql executes a document: graphql-core's executor with shortcuts for what a page of
records is made of. Answers, errors included, are the ones graphql-core gives.

A list of 50 rows with a handful of columns executes some 450 fields, and graphql-core's general
path costs a few microseconds each: a resolve info, argument coercion, the default resolver,
completion through the type wrappers. That made the executor a fifth of the CPU of a list request.
Here a field read from a dict row by the default resolver is completed in place, and the scalars
of each row are served from a plan made once per selection; anything else, and any value that
would need an error, goes through graphql-core's own path.
"""

from graphql import (
    ExecutionContext,
    Undefined,
    default_field_resolver,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
)
from graphql.pyutils import Path


class RowExecution(ExecutionContext):
    """graphql-core's execution, where every resolver is synchronous and rows are dicts."""

    _row_plans = None

    @staticmethod
    def is_awaitable(value) -> bool:
        # No resolver is a coroutine: graphql-core need not probe every value for `__await__`.
        return False

    def execute_field(self, parent_type, source, field_nodes, path):
        """A field read from a row (a dict) by the default resolver, without arguments, is
        completed in place: a scalar serialised; a dict of an object type (an edge's `node`, a
        record's `custom`) or a list of such dicts (`edges`) executed field by field, an error in
        them handled as graphql-core's completion handles it. A null, a value the scalar refuses
        and every other field take the general path, which resolves them again and reports any
        error as it always does."""
        general = self.middleware_manager is not None or self.field_resolver is not default_field_resolver
        if type(source) is dict and not general:
            name = field_nodes[0].name.value
            field = parent_type.fields.get(name)  # None for __typename: the general path
            if field is not None and field.resolve is None and not field.args:
                return_type = field.type
                named = return_type.of_type if is_non_null_type(return_type) else return_type
                value = source.get(name)
                plain = value is not None and not callable(value) and not isinstance(value, Exception)
                if plain and is_leaf_type(named):
                    serialized = _serialized(named, value)
                    if serialized is not None and serialized is not Undefined:
                        return serialized
                elif type(value) is dict and _plain_object(named):
                    return self._object(return_type, named, field_nodes, path, value)
                elif type(value) is list and is_list_type(named):
                    item_type = named.of_type
                    item = item_type.of_type if is_non_null_type(item_type) else item_type
                    if _plain_object(item) and all(type(entry) is dict for entry in value):
                        return self._objects(return_type, item_type, item, field_nodes, path, value)
        return super().execute_field(parent_type, source, field_nodes, path)

    def _object(self, return_type, object_type, field_nodes, path, value: dict):
        """What complete_value gives for a dict of `object_type`: its selected fields executed."""
        try:
            return self._row(object_type, value, path, self.collect_subfields(object_type, field_nodes))
        except Exception as raw_error:
            self.handle_field_error(located_error(raw_error, field_nodes, path.as_list()), return_type, path)
            return None

    def _objects(self, return_type, item_type, object_type, field_nodes, path, values: list[dict]):
        """What complete_list_value gives for a list of dicts of `object_type`."""
        try:
            selected = self.collect_subfields(object_type, field_nodes)
            completed = []
            for index, value in enumerate(values):
                item_path = path.add_key(index, None)
                try:
                    completed.append(self._row(object_type, value, item_path, selected))
                except Exception as raw_error:
                    error = located_error(raw_error, field_nodes, item_path.as_list())
                    self.handle_field_error(error, item_type, item_path)
                    completed.append(None)
            return completed
        except Exception as raw_error:
            self.handle_field_error(located_error(raw_error, field_nodes, path.as_list()), return_type, path)
            return None

    def _row(self, object_type, row: dict, path, selected: dict) -> dict:
        """execute_fields(object_type, row, path, selected), with each scalar field that
        execute_field would serialise in place served from a plan made once per selection."""
        plans = self._row_plans
        if plans is None:
            plans = self._row_plans = {}  # this execution's: keyed by the selections it collected
        plan = plans.get(id(selected))
        if plan is None:
            plan = plans[id(selected)] = (selected, _plan(object_type, selected))
        results = {}
        for response_name, field_nodes, name, scalar in plan[1]:
            if scalar is not None:
                value = row.get(name)
                if value is not None and not callable(value) and not isinstance(value, Exception):
                    serialized = _serialized(scalar, value)
                    if serialized is not None and serialized is not Undefined:
                        results[response_name] = serialized
                        continue
            result = self.execute_field(
                object_type, row, field_nodes, Path(path, response_name, object_type.name)
            )
            if result is not Undefined:
                results[response_name] = result
        return results


def _plan(object_type, selected: dict) -> list[tuple]:
    """(response name, field nodes, field name, the scalar when it is a leaf field read by the
    default resolver without arguments, else None) for each selected field, in order."""
    plan = []
    for response_name, field_nodes in selected.items():
        name = field_nodes[0].name.value
        field = object_type.fields.get(name)
        scalar = None
        if field is not None and field.resolve is None and not field.args:
            named = field.type.of_type if is_non_null_type(field.type) else field.type
            scalar = named if is_leaf_type(named) else None
        plan.append((response_name, field_nodes, name, scalar))
    return plan


def _plain_object(named) -> bool:
    """An object type whose values need no check: graphql-core executes its fields on them as is."""
    return is_object_type(named) and named.is_type_of is None


def _serialized(scalar, value):
    try:
        return scalar.serialize(value)
    except Exception:  # the general path raises it again, located in the answer's errors
        return None

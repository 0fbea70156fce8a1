"""How /graphql executes a document: graphql-core's executor with two shortcuts for what a page
of records is made of. Answers, errors included, are the ones graphql-core gives.

A list of 50 rows with a handful of columns executes some 450 fields, and graphql-core's general
path costs a few microseconds each: a resolve info, argument coercion, the default resolver,
completion through the type wrappers. That made the executor a fifth of the CPU of a list request.
"""

from graphql import ExecutionContext, Undefined, default_field_resolver, is_leaf_type, is_non_null_type


class RowExecution(ExecutionContext):
    """graphql-core's execution, where every resolver is synchronous and rows are dicts."""

    @staticmethod
    def is_awaitable(value) -> bool:
        # No resolver is a coroutine: graphql-core need not probe every value for `__await__`.
        return False

    def execute_field(self, parent_type, source, field_nodes, path):
        """A scalar read from a row (a dict) by the default resolver is serialised in place. A
        null, a value the scalar refuses and every other field take the general path, which
        resolves them again and reports any error as it always does."""
        general = self.middleware_manager is not None or self.field_resolver is not default_field_resolver
        if type(source) is dict and not general:
            name = field_nodes[0].name.value
            field = parent_type.fields.get(name)  # None for __typename: the general path
            if field is not None and field.resolve is None and not field.args:
                scalar = field.type.of_type if is_non_null_type(field.type) else field.type
                value = source.get(name)
                plain = value is not None and not callable(value) and not isinstance(value, Exception)
                if plain and is_leaf_type(scalar):
                    serialized = _serialized(scalar, value)
                    if serialized is not None and serialized is not Undefined:
                        return serialized
        return super().execute_field(parent_type, source, field_nodes, path)


def _serialized(scalar, value):
    try:
        return scalar.serialize(value)
    except Exception:  # the general path raises it again, located in the answer's errors
        return None

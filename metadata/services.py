"""What tenant admins do to their metadata: define custom objects, fields and validation rules,
change them (checked against the stored data first), delete them (data kept) and purge them.

Every change bumps the metadata version in its transaction, is audited like a record, and asks
for the field's indexes to be brought in line after commit.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from access.permissions import require_access_admin
from crm.records.audit import acting_as
from crm.records.inputs import pk_of
from crm.records.services import validated
from metadata import changes, indexes, limits, registry
from metadata.fieldtypes import TYPES, kind_of
from metadata.models import FieldDefinition, ObjectDefinition, ValidationRule
from metadata.values import value_message
from tenants import services as tenant_services

FIELD_ATTRIBUTES = (
    "label_en",
    "label_zh",
    "help_en",
    "help_zh",
    "required",
    "unique",
    "filterable",
    "sortable",
    "default",
    "options",
    "position",
)
UNIQUE_TYPES = ("text", "number", "email", "phone", "url", "auto_number", "decimal", "currency")
RESERVED = frozenset({"id", "pk", "custom", "object", "owner", "created_at", "updated_at"})


# --- objects ----------------------------------------------------------------------------------


def create_object(*, actor, name: str, label_en: str, **data) -> ObjectDefinition:
    """A new custom object, "custom.<name>", with a name field and no custom fields yet."""
    require_access_admin(actor)
    tenant_services.require_writable()
    with transaction.atomic(), acting_as(actor):
        limits.require_room_for_object()
        definition = ObjectDefinition(name=name, label_en=label_en, **data)
        _check_name(name, "name")
        validated(definition)
        definition.save()
        registry.bump_version()
        return definition


def update_object(*, actor, object_key: str, **data) -> ObjectDefinition:
    require_access_admin(actor)
    tenant_services.require_writable()
    allowed = {"label_en", "label_zh", "plural_en", "plural_zh", "description", "is_active"}
    _refuse_others(data, allowed, _("This cannot be changed."))
    with transaction.atomic(), acting_as(actor):
        definition = _object(object_key, lock=True)
        for key, value in data.items():
            setattr(definition, key, value)
        validated(definition)
        definition.save()
        registry.bump_version()
        return definition


# --- fields -----------------------------------------------------------------------------------


def add_field(*, actor, object_key: str, name: str, type: str, label_en: str, **data) -> FieldDefinition:
    """A new custom field on a standard or custom object. No DDL: values go in `custom`."""
    require_access_admin(actor)
    tenant_services.require_writable()
    _refuse_others(data, set(FIELD_ATTRIBUTES), _("Unknown attribute."))
    with transaction.atomic(), acting_as(actor):
        info = registry.describe(object_key)
        _check_name(name, "name")
        if info.field(name) is not None or any(d.name == name for d in info.deleted_fields):
            raise ValidationError({"name": [_("This object already has a field of that name.")]})
        limits.require_room_for_field(info)
        definition = FieldDefinition(object_key=object_key, name=name, type=type, label_en=label_en)
        for key, value in data.items():
            setattr(definition, key, value)
        if "position" not in data:
            definition.position = len(info.custom_fields) + len(info.deleted_fields)
        _check_definition(definition, info)
        definition.save()
        registry.bump_version()
        if definition.type == "formula":
            _recompute_formulas(object_key)
        indexes.request_sync(definition)
        return definition


def change_field(*, actor, field, **data) -> FieldDefinition:
    """Change a field's labels, rules, choices, type or indexing. A change the stored values would
    not satisfy is refused with a report (how many records, which ones, why)."""
    require_access_admin(actor)
    tenant_services.require_writable()
    _refuse_others(data, {*FIELD_ATTRIBUTES, "type"}, _("This cannot be changed."))
    with transaction.atomic(), acting_as(actor):
        definition = _field(field, lock=True)
        before = FieldDefinition(
            **{f.attname: getattr(definition, f.attname) for f in definition._meta.fields}
        )
        for key, value in data.items():
            setattr(definition, key, value)
        info = registry.describe(definition.object_key)
        _check_definition(definition, info)
        changes.check_against_data(info, before, definition)
        definition.save()
        changes.convert_values(info, before, definition)
        changes.fill_default(info, before, definition)
        registry.bump_version()
        if definition.type == "formula" and before.options.get("expression") != definition.options.get(
            "expression"
        ):
            _recompute_formulas(definition.object_key)
        indexes.request_sync(definition)
        return definition


def _recompute_formulas(object_key: str) -> None:
    # The stored values were computed by the old definitions; filters and sorts read them.
    from metadata.computed import recompute_formulas

    recompute_formulas(registry.describe(object_key))


def delete_field(*, actor, field) -> FieldDefinition:
    """Hide the field everywhere; its values stay in the records until `purge_field`."""
    require_access_admin(actor)
    tenant_services.require_writable()
    with transaction.atomic(), acting_as(actor):
        definition = _field(field, lock=True)
        if definition.deleted_at is None:
            definition.deleted_at = timezone.now()
            definition.save(update_fields=["deleted_at", "updated_at"])
            registry.bump_version()
            indexes.request_sync(definition)
        return definition


def restore_field(*, actor, field) -> FieldDefinition:
    require_access_admin(actor)
    tenant_services.require_writable()
    with transaction.atomic(), acting_as(actor):
        definition = _field(field, lock=True)
        if definition.deleted_at is not None:
            info = registry.describe(definition.object_key)
            limits.require_room_for_field(info)
            definition.deleted_at = None
            definition.save(update_fields=["deleted_at", "updated_at"])
            registry.bump_version()
            indexes.request_sync(definition)
        return definition


def purge_field(*, actor, field) -> int:
    """Remove a deleted field's values from every record and the definition itself; returns how
    many records held a value."""
    require_access_admin(actor)
    tenant_services.require_writable()
    with transaction.atomic(), acting_as(actor):
        definition = _field(field, lock=True)
        if definition.deleted_at is None:
            raise ValidationError({"field": [_("Delete the field before purging its data.")]})
        info = registry.describe(definition.object_key)
        indexes.drop_now(definition)
        removed = changes.remove_values(info, definition.name)
        definition.delete()
        registry.bump_version()
        return removed


# --- validation rules -------------------------------------------------------------------------


def add_rule(*, actor, object_key: str, name: str, condition: str, message_en: str, **data) -> ValidationRule:
    """A validation rule: records for which `condition` is true are refused with the message."""
    require_access_admin(actor)
    tenant_services.require_writable()
    with transaction.atomic(), acting_as(actor):
        info = registry.describe(object_key)
        limits.require_room_for_rule(info, len(info.snapshot.rules.get(object_key, [])))
        rule = ValidationRule(
            object_key=object_key, name=name, condition=condition, message_en=message_en, **data
        )
        _check_name(name, "name")
        _check_rule(rule, info)
        validated(rule)
        rule.save()
        registry.bump_version()
        return rule


def change_rule(*, actor, rule, **data) -> ValidationRule:
    require_access_admin(actor)
    tenant_services.require_writable()
    allowed = {"condition", "message_en", "message_zh", "field", "is_active"}
    _refuse_others(data, allowed, _("This cannot be changed."))
    with transaction.atomic(), acting_as(actor):
        rule = ValidationRule.objects.select_for_update().get(pk=pk_of(rule))
        for key, value in data.items():
            setattr(rule, key, value)
        _check_rule(rule, registry.describe(rule.object_key))
        validated(rule)
        rule.save()
        registry.bump_version()
        return rule


def delete_rule(*, actor, rule) -> None:
    require_access_admin(actor)
    tenant_services.require_writable()
    with transaction.atomic(), acting_as(actor):
        ValidationRule.objects.filter(pk=pk_of(rule)).delete()
        registry.bump_version()


# --- checks -----------------------------------------------------------------------------------


def _refuse_others(data: dict, allowed: set, message: str) -> None:
    """One field error for each attribute outside `allowed`."""
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({key: [message] for key in sorted(unknown)})


def _object(object_key: str, *, lock: bool = False) -> ObjectDefinition:
    if not object_key.startswith(registry.CUSTOM_PREFIX):
        raise registry.unknown_object(object_key)
    queryset = ObjectDefinition.objects.select_for_update() if lock else ObjectDefinition.objects
    found = queryset.filter(name=object_key.removeprefix(registry.CUSTOM_PREFIX)).first()
    if found is None:
        raise registry.unknown_object(object_key)
    return found


def _field(field, *, lock: bool) -> FieldDefinition:
    queryset = FieldDefinition.objects.select_for_update() if lock else FieldDefinition.objects
    found = queryset.filter(pk=pk_of(field)).first()
    if found is None:
        from crm_platform.errors import NotFound

        raise NotFound(_("Field not found."))
    return found


def _check_name(name, key: str) -> None:
    import re

    from metadata.models import NAME_PATTERN

    if not isinstance(name, str) or not re.match(NAME_PATTERN, name):
        raise ValidationError(
            {key: [_("Use lower-case letters, digits and _, starting with a letter (at most 63).")]}
        )
    if name in RESERVED:
        raise ValidationError({key: [_("This name is reserved.")]})


def _check_definition(definition: FieldDefinition, info: registry.ObjectInfo) -> None:
    """Every problem of a field definition at once, keyed by attribute ("options.choices")."""
    if definition.type not in TYPES:
        raise ValidationError({"type": [_("Unknown field type.")]})
    if not isinstance(definition.options, dict):
        raise ValidationError({"options": [_("Expected an object.")]})
    errors: dict[str, list[str]] = {}
    try:
        validated(definition, exclude=["options", "default"])
    except ValidationError as error:
        errors.update(error.message_dict)
    kind = kind_of(definition.type)
    options_schema = {
        "type": "object",
        "properties": kind.options_schema,
        "additionalProperties": False,
    }
    for error in Draft202012Validator(options_schema).iter_errors(definition.options):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties":
            for key in set(definition.options) - set(kind.options_schema):
                errors.setdefault(f"options.{key}", []).append(_("Not an option of this field type."))
            continue
        errors.setdefault(f"options.{path}" if path else "options", []).append(value_message(error))
    if not errors:
        for key, message in kind.options_errors(definition.options).items():
            errors.setdefault(f"options.{key}", []).append(message)
    if definition.unique and definition.type not in UNIQUE_TYPES:
        errors.setdefault("unique", []).append(_("Fields of this type cannot be unique."))
    indexed = definition.filterable or definition.sortable
    if indexed and kind.index_kind_of(definition.options) is None and definition.type != "formula":
        errors.setdefault("filterable", []).append(_("Fields of this type cannot be indexed."))
    if kind.computed and definition.required:
        errors.setdefault("required", []).append(_("A computed field cannot be required."))
    if not errors:
        errors.update(_type_specific(definition, info))
    if not errors and definition.default is not None:
        errors.update(_default_errors(definition, info))
    if errors:
        raise ValidationError(errors)


def _type_specific(definition: FieldDefinition, info: registry.ObjectInfo) -> dict:
    options = definition.options
    if definition.type == "lookup":
        target = options.get("target")
        try:
            registry.describe(target or "", snap=info.snapshot)
        except ValidationError:
            return {"options.target": [_("Name the object this field points to.")]}
    if definition.type == "formula":
        from metadata import formulas

        types = {f.name: f.type for f in info.fields if f.name != definition.name}
        for other in info.custom_fields:
            if other.type == "formula" and other.name != definition.name:
                types[other.name] = other.options.get("result_type", "text")
        try:
            formula = formulas.parse(options.get("expression", ""))
            options["result_type"] = formulas.check(formula, types)
        except formulas.FormulaError as error:
            return {"options.expression": [str(error)]}
        if _formula_cycle(definition, formula, info):
            return {"options.expression": [_("Formulas may not depend on themselves.")]}
    if definition.type == "rollup":
        from metadata import rollups

        return rollups.definition_errors(options, info)
    return {}


def _formula_cycle(definition, formula, info) -> bool:
    from metadata.computed import parsed

    others = {d.name: d for d in info.custom_fields if d.type == "formula" and d.name != definition.name}
    seen, stack = set(), list(formula.references)
    while stack:
        name = stack.pop()
        if name == definition.name:
            return True
        if name in seen or name not in others:
            continue
        seen.add(name)
        stack.extend(parsed(info, name, others[name].options["expression"]).references)
    return False


def _default_errors(definition: FieldDefinition, info: registry.ObjectInfo) -> dict:
    from metadata.fieldtypes import BadValue

    kind = kind_of(definition.type)
    if kind.computed:
        return {"default": [_("A computed field has no default.")]}
    problem = next(
        iter(Draft202012Validator(kind.schema(definition.options)).iter_errors(definition.default)), None
    )
    if problem is not None:
        return {"default": [value_message(problem)]}
    try:
        definition.default = kind.clean(definition.default, definition.options)
    except BadValue as error:
        return {"default": [str(error)]}
    return {}


def _check_rule(rule: ValidationRule, info: registry.ObjectInfo) -> None:
    from metadata import formulas

    types = {f.name: f.type for f in info.fields}
    for definition in info.custom_fields:
        if definition.type == "formula":
            types[definition.name] = definition.options.get("result_type", "text")
    try:
        formulas.check_boolean(formulas.parse(rule.condition), types)
    except formulas.FormulaError as error:
        raise ValidationError({"condition": [str(error)]}) from None
    if rule.field and info.field(rule.field) is None:
        raise ValidationError({"field": [_("Unknown field.")]})

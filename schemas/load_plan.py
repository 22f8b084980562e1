"""Load plans: marshmallow's own checks, run without its per-field bookkeeping.

A statement or a record is loaded on every seal, open, submit and audited log entry, and
marshmallow spends most of a load on generic machinery around the checks (an error store,
a getter closure, an `And` of the validators and a nested `load` call per field; about 300 µs
for a 4 KiB record, more than two Ed25519 verifications). A plan is compiled once per
schema class from the schema's own fields and runs the same checks in the same order:
each field's own `_deserialize` and validators, the nested schemas' plans, the
schema's `@validates_schema` hooks and then its `@post_load` processors.

A plan only ever *accepts*. The moment anything is not plainly valid (a missing required
member, an unknown one, a null, a field that raised, a shape it was not compiled for) it
raises `Refused`, and the caller loads the document with marshmallow, which decides and
writes the error messages. So a plan can make a valid document faster, never an invalid
one accepted or its errors different; `tests/schemas/test_load_plan.py` checks plans
against marshmallow alone (`marshmallow_only`) on mutated documents.

Whatever a plan was not written for (pre-load processors, `@validates` methods,
`partial`, INCLUDE, dotted attributes, a field's own pre/post-load functions) is handed to
marshmallow whole: the schema gets no plan, or the field is loaded by its public
`deserialize`.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

# value, the parent's raw mapping (None inside a list) -> the loaded value; raises Refused
# or ValidationError.
FieldPlan = Callable[[Any, Mapping[str, Any] | None], Any]
SchemaPlan = Callable[[Any], Any]


class Refused(Exception):  # noqa: N818 - a signal, not an error: marshmallow decides next
    """The plan does not accept this document; marshmallow is to load it."""


class Unplannable(Exception):  # noqa: N818 - raised while compiling only
    """The schema uses something plans were not written for; marshmallow loads it whole."""


_USE_PLANS: ContextVar[bool] = ContextVar("schemas.load_plan.use", default=True)


def plans_enabled() -> bool:
    return _USE_PLANS.get()


@contextmanager
def marshmallow_only() -> Iterator[None]:
    """Load with marshmallow alone in this context: the reference plans are tested against."""
    token = _USE_PLANS.set(False)
    try:
        yield
    finally:
        _USE_PLANS.reset(token)


@runtime_checkable
class PlannedField(Protocol):
    """A field that compiles its own plan (a container whose elements have plans)."""

    def load_plan(self, attr: str | None) -> FieldPlan: ...


@runtime_checkable
class PlannedSchema(Protocol):
    def plan(self) -> SchemaPlan | None: ...


_SHARED: dict[type[Schema], SchemaPlan | None] = {}


def shared_plan(schema: Schema, base: type[Schema]) -> SchemaPlan | None:
    """The plan of `schema`'s class, compiled once, when `schema` is configured as every
    plain instance of its class is (no only, exclude, many, partial, load_only, dump_only or
    other unknown, and no `__init__` of its own below `base`): its fields are then copies
    of the same declared fields and its hooks the same methods, so one plan serves all.
    Any other instance gets a plan of its own."""
    cls = type(schema)
    below_base = cls.__mro__[: cls.__mro__.index(base)] if base in cls.__mro__ else cls.__mro__
    plain = (
        schema.only is None
        and not schema.exclude
        and not schema.many
        and not schema.partial
        and not schema.load_only
        and not schema.dump_only
        and schema.unknown == schema.opts.unknown
        and all("__init__" not in vars(c) for c in below_base)
    )
    if not plain:
        return compile_schema(schema)
    if cls not in _SHARED:
        _SHARED[cls] = compile_schema(schema)
    return _SHARED[cls]


def compile_schema(schema: Schema) -> SchemaPlan | None:
    """The plan of `schema`, or None where marshmallow must load it whole."""
    try:
        return _compile(schema)
    except Unplannable:
        return None


def _compile(schema: Schema) -> SchemaPlan:
    hooks = schema._hooks  # the hooks marshmallow itself would run
    if (
        schema.many
        or schema.partial
        or schema.unknown not in (RAISE, EXCLUDE)
        or hooks[PRE_LOAD]
        or hooks[VALIDATES]
    ):
        raise Unplannable
    members: list[tuple[str, str, fields.Field[Any], FieldPlan]] = []
    for name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else name
        attribute = field.attribute or name
        if "." in attribute:
            raise Unplannable
        members.append((key, attribute, field, field_plan(field, key)))
    known = frozenset(key for key, _, _, _ in members)
    refuse_unknown = schema.unknown == RAISE
    partial, unknown = schema.partial, schema.unknown
    # marshmallow runs the pass_many validators first, then the others; with many=False
    # both receive the one document.
    validators = [
        (getattr(schema, name), bool(options.get("pass_original", False)))
        for pass_many in (True, False)
        for name, hook_many, options in hooks[VALIDATES_SCHEMA]
        if hook_many == pass_many
    ]
    # Post-load processors in marshmallow's order too; they run once the document is valid.
    processors = [
        (getattr(schema, name), bool(options.get("pass_original", False)))
        for pass_many in (True, False)
        for name, hook_many, options in hooks[POST_LOAD]
        if hook_many == pass_many
    ]

    def plan(data: Any) -> Any:
        if not (type(data) is dict or isinstance(data, Mapping)) or (
            refuse_unknown and not known.issuperset(data)
        ):
            raise Refused
        loaded: dict[str, Any] = {}
        for key, attribute, field, load in members:
            value = data.get(key, missing)
            if value is missing:
                if field.required:
                    raise Refused
                default = field.load_default
                if default is not missing:
                    loaded[attribute] = default() if callable(default) else default
            elif value is None:
                if not field.allow_none:
                    raise Refused
                loaded[attribute] = None
            else:
                loaded[attribute] = load(value, data)
        for validator, pass_original in validators:
            if pass_original:
                validator(loaded, data, partial=partial, many=False, unknown=unknown)
            else:
                validator(loaded, partial=partial, many=False, unknown=unknown)
        result: Any = loaded
        for processor, pass_original in processors:
            if pass_original:
                result = processor(result, data, many=False, partial=partial, unknown=unknown)
            else:
                result = processor(result, many=False, partial=partial, unknown=unknown)
        return result

    return plan


def field_plan(field: fields.Field[Any], attr: str | None) -> FieldPlan:
    """How a present, non-null value is loaded: as `field.deserialize(value, attr, data)`
    would load it (a schema passes the member's key as attr, a list passes None)."""
    if field.pre_load or field.post_load:
        raise Unplannable
    if isinstance(field, PlannedField) and _plans_its_own_load(type(field)):
        return field.load_plan(attr)
    if type(field) is fields.Nested and not field.many and field.unknown is None:
        return _nested_plan(field, attr)
    validators = tuple(field.validators)
    # The field's own check, called as marshmallow calls it.
    deserialize = field._deserialize

    def leaf(value: Any, data: Mapping[str, Any] | None) -> Any:
        loaded = deserialize(value, attr, data)
        for validator in validators:
            validator(loaded)
        return loaded

    return leaf


def _plans_its_own_load(cls: type) -> bool:
    """False when a subclass overrides `_deserialize` below the class whose `load_plan`
    stands for it: the plan would skip that override's checks."""
    planner = next(c for c in cls.__mro__ if "load_plan" in vars(c))
    loader = next(c for c in cls.__mro__ if "_deserialize" in vars(c))
    return issubclass(planner, loader)


def _nested_plan(field: fields.Nested, attr: str | None) -> FieldPlan:
    schema = field.schema
    plan = schema.plan() if isinstance(schema, PlannedSchema) else None
    if plan is None:
        return lambda value, data: field.deserialize(value, attr, data)
    return validated(plan, field)


def validated(plan: SchemaPlan, field: fields.Field[Any]) -> FieldPlan:
    """A schema's plan as a field's: the field's own validators run on what it loaded."""
    validators = tuple(field.validators)

    def load(value: Any, data: Mapping[str, Any] | None) -> Any:
        loaded = plan(value)
        for validator in validators:
            validator(loaded)
        return loaded

    return load


def elements_plan(inner: fields.Field[Any]) -> Callable[[list[Any]], list[Any]]:
    """A list's elements, each loaded as `fields.List` loads it: `inner.deserialize(value)`."""
    load = field_plan(inner, None)
    allow_none = inner.allow_none

    def elements(values: list[Any]) -> list[Any]:
        loaded = []
        for value in values:
            if value is not None:
                loaded.append(load(value, None))
            elif allow_none:
                loaded.append(None)
            else:
                raise Refused
        return loaded

    return elements


def load(schema: Schema, data: Any, plan: SchemaPlan | None) -> Any:
    """Load with the plan; when it refuses, marshmallow loads and decides."""
    if plan is not None and plans_enabled():
        try:
            return plan(data)
        except (Refused, ValidationError):
            pass
    return Schema.load(schema, data)

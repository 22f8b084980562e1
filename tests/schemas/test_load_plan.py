"""Load plans accept exactly what marshmallow accepts, and load it to the same document.

The reference is marshmallow alone (`marshmallow_only`). Documents are valid instances of
every schema, then mutated at a random place: a member dropped, an unknown one added, a
value replaced by another JSON value of any type, or a string by one that breaks a rule.
"""

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, post_load, pre_load

from schemas.common import BoundedList, StrictSchema, Text
from schemas.load_plan import Refused, marshmallow_only
from schemas.record import RecordSchema
from schemas.statement import StatementSchema
from tests.schemas.test_roundtrip import CASES

Draw = Any

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
# Strings that break the common rules: empty, control characters, a lone surrogate, too long,
# a trailing newline after a valid-looking value, a non-ASCII digit, an uppercase UUID.
broken_strings = st.sampled_from(
    [
        "",
        "\x00",
        "a\x85b",
        "\ud800",
        "x" * 70_000,
        "case\n",
        "٢",
        "ABCDEF00-0000-0000-0000-000000000000",
    ]
)


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a member or element in `value`, the root included."""
    found = [path]
    if isinstance(value, dict):
        for key, member in value.items():
            found += _places(member, (*path, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            found += _places(member, (*path, index))
    return found


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


@st.composite
def mutated(draw: Draw, strategy: st.SearchStrategy[Any]) -> Any:
    document = copy.deepcopy(draw(strategy))
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        path = draw(st.sampled_from(_places(document)))
        if not path:
            continue
        parent, last = _at(document, path[:-1]), path[-1]
        how = draw(st.sampled_from(["drop", "unknown", "replace", "break", "null"]))
        if how == "drop":
            del parent[last]
        elif how == "unknown" and isinstance(parent, dict):
            parent["zz_unknown"] = draw(json_values)
        elif how == "replace":
            parent[last] = draw(json_values)
        elif how == "break":
            parent[last] = draw(broken_strings)
        else:
            parent[last] = None
    return document


def _outcome(schema: Schema, document: Any) -> tuple[str, Any]:
    try:
        return "loaded", schema.load(document)
    except ValidationError as exc:
        return "refused", exc.messages


@pytest.mark.parametrize(
    ("schema_class", "strategy"),
    [pytest.param(cls, strategy, id=name) for name, cls, strategy in CASES],
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_plan_decides_as_marshmallow_does(
    schema_class: type[Schema], strategy: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    schema = schema_class()
    plan = schema.plan()  # type: ignore[attr-defined]
    assert plan is not None
    document = data.draw(mutated(strategy))
    with marshmallow_only():
        reference = _outcome(schema_class(), document)
    try:
        planned: tuple[str, Any] = ("loaded", plan(document))
    except (Refused, ValidationError):  # what hands a document over to marshmallow
        planned = ("refused", None)
    # Valid: the plan loads it, to the same members in the same order.
    # Invalid: the plan refuses it, and marshmallow's own messages are what callers see.
    assert planned[0] == reference[0]
    if reference[0] == "loaded":
        assert json.dumps(planned[1]) == json.dumps(reference[1])
    assert _outcome(schema, document) == reference


@pytest.mark.parametrize(
    "schema_class",
    sorted({cls for _, cls, _ in CASES} | {RecordSchema, StatementSchema}, key=str),
)
def test_every_wire_schema_has_a_plan(schema_class: type[StrictSchema]) -> None:
    assert schema_class().plan() is not None


def test_a_subclass_that_overrides_deserialize_keeps_its_check() -> None:
    class NoDuplicatesOfA(BoundedList):
        def _deserialize(
            self, value: object, attr: str | None, data: Any, **kwargs: object
        ) -> list[Any]:
            loaded = super()._deserialize(value, attr, data, **kwargs)
            if loaded.count("a") > 1:
                raise ValidationError("Two a.")
            return loaded

    class Doc(StrictSchema):
        letters = NoDuplicatesOfA(Text(max_length=1), max_length=4, required=True)

    schema = Doc()
    assert schema.plan() is not None
    assert schema.load({"letters": ["a", "b"]}) == {"letters": ["a", "b"]}
    with pytest.raises(ValidationError) as exc:
        schema.load({"letters": ["a", "a"]})
    assert exc.value.messages == {"letters": ["Two a."]}


class Named(StrictSchema):
    name = Text(max_length=8, required=True)
    note = Text(max_length=8)

    @post_load
    def _shout(self, data: dict[str, Any], **kwargs: object) -> dict[str, Any]:
        return {**data, "name": data["name"].upper()}


def test_post_load_processors_run_on_the_planned_path() -> None:
    schema = Named()
    plan = schema.plan()
    assert plan is not None
    assert plan({"name": "ab"}) == {"name": "AB"}
    assert schema.load({"name": "ab", "note": "x"}) == {"name": "AB", "note": "x"}


def test_a_pre_load_processor_leaves_the_schema_to_marshmallow() -> None:
    class Trimmed(StrictSchema):
        name = Text(max_length=8, required=True)

        @pre_load
        def _trim(self, data: dict[str, Any], **kwargs: object) -> dict[str, Any]:
            return {"name": data["name"].strip()}

    schema = Trimmed()
    assert schema.plan() is None
    assert schema.load({"name": " ab "}) == {"name": "ab"}


def test_instances_configured_alike_share_one_plan_and_others_get_their_own() -> None:
    # webargs builds a schema per request: compiling per instance would cost every request.
    assert Named().plan() is Named().plan()
    only_name = Named(only=("name",))
    assert only_name.plan() is not Named().plan()
    assert only_name.load({"name": "ab"}) == {"name": "AB"}
    with pytest.raises(ValidationError) as exc:
        only_name.load({"name": "ab", "note": "x"})
    assert exc.value.messages == {"note": ["Unknown field."]}


def test_a_plain_nested_schema_is_loaded_by_its_field() -> None:
    class Plain(Schema):
        n = fields.Integer(strict=True, required=True)

    class Doc(StrictSchema):
        inner = fields.Nested(Plain, required=True)

    schema = Doc()
    assert schema.load({"inner": {"n": 1}}) == {"inner": {"n": 1}}
    with pytest.raises(ValidationError) as exc:
        schema.load({"inner": {"n": "1"}})
    assert exc.value.messages == {"inner": {"n": ["Not a valid integer."]}}

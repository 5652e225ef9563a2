"""Reading the rows of the portal's few plain-SQL statements as the ORM would.

A column read with ``cursor.execute`` comes back as the database gives it:
on PostgreSQL already a date, a Decimal or a boolean; on SQLite as text or a
number. ``reader(Model, "field")`` turns such a value into what the ORM would
have made of that model field (its database converters and the field's own).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models


def columns(
    model: type[models.Model], alias: str, names: Sequence[str] | None = None
) -> tuple[tuple[str, ...], str]:
    """``model``'s columns (all of them, or the fields ``names``), in the
    model's order, as ``Model.from_db`` takes them (their attribute names)
    and as a statement's select list of table ``alias``: a field added to
    the model is read too, never left deferred."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if names is None or f.name in names or f.attname in names
    ]
    return tuple(f.attname for f in fields), ", ".join(f"{alias}.{f.column}" for f in fields)


def reader(model: type[models.Model], name: str) -> Callable[[Any], Any]:
    """What the ORM does to ``model.name`` read from the database, as a function."""
    return _reader(model, name)[0]


def expression_reader(expression: models.Expression) -> Callable[[Any], Any]:
    """What the ORM does to the value of ``expression`` (an annotation, such as
    a ``RawSQL`` with its ``output_field``) read from the database."""
    return _converting(expression, expression.output_field)[0]


def converted(model: type[models.Model], names: Sequence[str]) -> list[tuple[int, Callable]]:
    """``reader`` of each of ``names`` (fields or their columns' attribute
    names, such as ``buyer_id``) that the ORM converts on this database, with
    its place in ``names``: a row's other values are already what the ORM
    makes of them (on PostgreSQL, most are)."""
    found = []
    for index, name in enumerate(names):
        read, converts = _reader(model, name)
        if converts:
            found.append((index, read))
    return found


def _reader(model: type[models.Model], name: str) -> tuple[Callable[[Any], Any], bool]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is a relation's other end, not a column.")
    return _converting(field.get_col(model._meta.db_table), field)


def _converting(expression: Any, field: Any) -> tuple[Callable[[Any], Any], bool]:
    """The database's and ``field``'s converters of ``expression`` (a column
    or an annotation), chained as the ORM applies them, and whether there are any."""
    # Field.get_db_converters is Django's, but django-stubs leaves it out.
    converters = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)

    def read(value: Any) -> Any:
        for convert in converters:
            value = convert(value, expression, connection)
        return value

    return read, bool(converters)

"""Which column of a table plays which part: feature, target, id, excluded or categorical.

The same rules hold for every table source (csv, parquet, json): the target, id, excluded and
categorical columns are named; every other column is a numeric feature unless ``features=``
lists them. A named column the table lacks is an error that lists the table's columns.

A ``text=`` column is a categorical column whose categories are its text as written, whatever it
looks like: ``"02134"`` stays a zip code, not the number 2134, and ``"1.50"`` and ``"1.5"`` are two
categories (see :mod:`nndsl.data.schema`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import closest

_OTHER_DELIMITERS = (";", "\t", "|")


def as_list(value) -> list[str] | None:
    """A ``str_or_list`` argument as a list of column names (None when absent)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(x) for x in value]


@dataclass(frozen=True)
class Roles:
    """The columns of a table by role, in the order the model sees them."""

    header: tuple[str, ...]
    features: tuple[str, ...]
    targets: tuple[str, ...]
    ids: tuple[str, ...]
    categorical: tuple[str, ...]
    as_text: tuple[str, ...] = ()  # the categorical columns of text= (categories of text as written, never numbers)

    @property
    def numeric(self) -> tuple[str, ...]:
        """Features then targets: the columns read as numbers."""
        return self.features + self.targets

    @property
    def text(self) -> tuple[str, ...]:
        """Every other column, kept as text (ids, excluded and categorical columns)."""
        numeric = set(self.numeric)
        return tuple(c for c in self.header if c not in numeric)


def unique_header(header, fail: Callable[[str], Exception]) -> None:
    """A header that names a column twice is an error."""
    seen = set()
    for h in header:
        if h in seen:
            raise fail(f"expected unique column names; received '{h}' twice in the header")
        seen.add(h)


def assign_roles(args: dict, header, fail: Callable[..., Exception], *, delimiter: str | None = None) -> Roles:
    """The roles of ``header``'s columns from a source's arguments.

    Every column that is not named is a numeric feature, unless ``features=`` or ``numeric=``
    lists the features (then the columns in neither list, nor among the target, ids or
    categories, are left out).

    Args:
        args: the source's arguments (target, features, numeric, exclude, categorical, text, id).
        fail: ``fail(message, hint=None)`` builds the located error.
        delimiter: a CSV file's delimiter, to spot a file separated by another one.
    """
    header = list(header)

    def need(col: str, role: str):
        if col in header:
            return
        best = closest(col, header)
        hint = f"did you mean '{best}'?" if best else None
        if delimiter is not None and len(header) == 1:
            other = next((d for d in _OTHER_DELIMITERS if d != delimiter and d in header[0]), None)
            if other is not None:
                shown = "\\t" if other == "\t" else other
                hint = f"the file seems to be separated by '{shown}': write csv(..., delimiter=\"{shown}\")"
        raise fail(f"expected a column '{col}' ({role}); received columns {', '.join(header)}", hint=hint)

    targets = as_list(args.get("target")) or []
    ids = as_list(args.get("id")) or []
    exclude = as_list(args.get("exclude")) or []
    categorical = as_list(args.get("categorical")) or []
    as_text = as_list(args.get("text")) or []
    for c in targets:
        need(c, "target")
    for c in ids:
        need(c, "id")
    for c in exclude:
        need(c, "excluded")
    for c in categorical:
        need(c, "categorical")
        if c in targets:
            raise fail(f"expected categorical feature columns; received the target '{c}'",
                       hint="a target of class labels needs no declaration: leave it out of categorical=")
    for c in as_text:
        need(c, "text")
        for names, role in ((targets, "the target"), (ids, "an id"), (exclude, "excluded")):
            if c in names:
                raise fail(f"expected text= to name feature columns; received '{c}', {role}",
                           hint="an id or excluded column is kept as text already; a target of class labels needs no declaration")
    categorical += [c for c in as_text if c not in categorical]  # text= columns are categories of text
    numeric = as_list(args.get("numeric"))
    for c in numeric or ():
        need(c, "numeric")
        if c in as_text:
            raise fail(f"expected a column to be numeric or text; received '{c}' in both numeric= and text=")
        if c in categorical:
            raise fail(f"expected a column to be numeric or categorical; received '{c}' in both numeric= and categorical=")
    features = as_list(args.get("features"))
    if features is None and numeric is not None:
        features = [*numeric, *categorical]  # the roles named, and no other column
    if features is None:
        left_out = set(targets) | set(exclude) | set(ids) | set(categorical)
        features = [h for h in header if h not in left_out]
    else:
        for c in features:
            need(c, "feature")
        features = [c for c in features if c not in categorical]
    if not features and not categorical:
        raise fail("expected at least one feature column; received none after removing target and excluded columns")
    return Roles(tuple(header), tuple(features), tuple(targets), tuple(ids), tuple(categorical), tuple(as_text))

"""The shape of what ``as_json()`` returns: JSON values, typed, so no result type needs Any.

Mappings and sequences (not dict and list) so that a ``dict[str, int]`` or a ``list[str]`` field
is a JSON value as it is. A StrEnum is a str.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

JsonValue = str | int | float | bool | None | Sequence["JsonValue"] | Mapping[str, "JsonValue"]
JsonObject = dict[str, JsonValue]

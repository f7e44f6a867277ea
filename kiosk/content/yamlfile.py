"""Reading YAML data files safely, with errors that name the file, the item and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kiosk.errors import ContentError


class _DuplicateKey(yaml.YAMLError):
    """A mapping names the same key twice (raised while parsing, turned into a ContentError)."""

    def __init__(self, key: str, line: int, first_line: int) -> None:
        super().__init__(f"duplicate key '{key}' at line {line}")
        self.key = key
        self.line = line
        self.first_line = first_line


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys.

    Plain YAML keeps the last of two equal keys without a word, so a second `section: history` under a
    question would silently stop it being a stroke/safety gate; content must say each field once.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<:` merges are resolved by the base loader
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _DuplicateKey(str(key), line, seen[key])
                seen[key] = line
            except TypeError:
                continue  # an unhashable key: the base loader reports it
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file safely (no object construction); a missing or malformed file, or a mapping with a
    duplicate key, is a ContentError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(str(path), "-", "-", "file is missing; restore it from the repository") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(str(path), "-", "-", f"cannot be read ({exc}); it must be UTF-8 text") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except _DuplicateKey as exc:
        raise ContentError(str(path), "-", exc.key,
                           f"duplicate key '{exc.key}' at line {exc.line} (first at line {exc.first_line}); "
                           "keep one of them") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentError(str(path), "-", "-", f"is not valid YAML{line}: {problem}") from None


def bare_bool_hint(value: Any) -> str:
    """A hint for a value YAML read as true/false: bare yes/no/on/off are booleans in YAML 1.1 (PyYAML)."""
    values = value if isinstance(value, list) else [value]
    if any(isinstance(v, bool) for v in values):
        return '; YAML reads a bare yes, no, on or off as true/false: write "yes" and "no" in quotes'
    return ""


class Fields:
    """Typed access to one mapping item of a data file; every failure names file, item and field."""

    def __init__(self, file: str, item: str, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise ContentError(file, item, "-", f"must be a mapping, got {type(raw).__name__}")
        self.file = file
        self.item = item
        self.raw: dict[str, Any] = raw

    def error(self, field: str, problem: str) -> ContentError:
        return ContentError(self.file, self.item, field, problem)

    def text(self, field: str, default: str | None = None) -> str:
        value = self.raw.get(field, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, "must be a non-empty string" + bare_bool_hint(value))
        return value

    def opt_text(self, field: str) -> str | None:
        if self.raw.get(field) is None:
            return None
        return self.text(field)

    def text_list(self, field: str, default: list[str] | None = None) -> tuple[str, ...]:
        value = self.raw.get(field, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(field, "must be a list of non-empty strings" + bare_bool_hint(value))
        return tuple(value)

    def mapping(self, field: str, default: dict[str, Any] | None = None) -> dict[str, Any]:
        value = self.raw.get(field, default)
        if not isinstance(value, dict):
            raise self.error(field, "must be a mapping")
        return value

    def id_items(self, field: str, allowed: tuple[str, ...], non_empty: bool = True) -> list[tuple[str, Fields]]:
        """The list under `field` as (id, item): mappings with a unique 'id' and no fields beyond `allowed`."""
        raw_items = self.raw.get(field)
        if not isinstance(raw_items, list) or (non_empty and not raw_items):
            raise self.error(field, "must be a non-empty list" if non_empty else "must be a list")
        result: list[tuple[str, Fields]] = []
        for index, raw in enumerate(raw_items):
            name = raw.get("id", f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
            item = Fields(self.file, str(name), raw)
            item.only("id", *allowed)
            item_id = item.text("id")
            if any(item_id == seen for seen, _ in result):
                raise item.error("id", f"duplicate id '{item_id}'")
            result.append((item_id, item))
        return result

    def only(self, *allowed: str) -> None:
        """Reject unknown fields: a typo in a field name must not silently drop a rule."""
        for key in self.raw:
            if key not in allowed:
                raise self.error(str(key), f"unknown field; allowed: {', '.join(allowed)}")

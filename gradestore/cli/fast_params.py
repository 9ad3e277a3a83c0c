"""Option values converted without pydantic when Typer's own conversion would give the same.

Typer (0.2x) converts every parameter of the command it runs through a pydantic
``TypeAdapter``, built when the value is processed; importing pydantic and building the
adapters costs a report about as much as everything else it imports beyond SQLAlchemy and
Typer (docs/performance.md, issue 16). For the plain types gradestore's options use (``str``,
``bool``, ``int``, ``float``, an ``Enum``, a ``Path``, a list of one of these) the result of Typer's
conversion is known: the value as it is, ``int(text)`` for a plain decimal integer,
``float(text)`` for a plain decimal, Typer's own choice and path checks. Those are done here.
Anything else (a parser, bounds, a value that does not convert, an annotation not listed) is
handed to Typer's own conversion, so its results and its error messages are Typer's.

``install()`` replaces the builder that ``typer.core`` looks the conversion up with; it does
nothing when this Typer has no such builder (older or newer Typers keep their own path).
tests/cli/test_fast_params.py checks both paths give the same values and errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

if TYPE_CHECKING:
    from typer._click import Context
    from typer._coercion import RuntimeParam, TypeDescriptor
    from typer.core import _TyperParameter

_INTEGER = re.compile(r"-?[0-9]{1,100}")
_DECIMAL = re.compile(r"-?[0-9]{1,100}(\.[0-9]{1,100})?")

Convert = Callable[[Any, "_TyperParameter", "Context"], Any]


class _Declined(Exception):
    """The value is not one this module converts: Typer converts it."""


def install() -> bool:
    """Put the fast builder in Typer's place; False when this Typer has no place for it."""
    try:
        import typer.core as typer_core
        from typer import _coercion
    except ImportError:
        return False
    original = getattr(_coercion, "build_runtime_param", None)
    if original is None or getattr(typer_core, "build_runtime_param", None) is not original:
        return getattr(typer_core, "build_runtime_param", None) is build_runtime_param
    typer_core.build_runtime_param = build_runtime_param
    return True


def build_runtime_param(descriptor: TypeDescriptor) -> RuntimeParam:
    """Typer's ``build_runtime_param``, with a converter of our own where one applies."""
    from typer import _coercion

    convert = _converter(descriptor)
    if convert is None:
        return _coercion.build_runtime_param(descriptor)
    return _fast_param_class()(
        parameter_info=descriptor.parameter_info,
        annotation=descriptor.annotation,
        descriptor=descriptor,
        convert=convert,
    )


def _converter(descriptor: TypeDescriptor) -> Convert | None:
    """How to convert a value of this parameter, or None: leave it to Typer."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return None
    if info.min is not None or info.max is not None or info.clamp:
        return None
    annotation = descriptor.annotation
    if get_origin(annotation) is list:
        (item_type,) = get_args(annotation)
        one = _leaf_converter(item_type, info)
        return None if one is None else _each(one)
    return _leaf_converter(annotation, info)


def _leaf_converter(annotation: Any, info: Any) -> Convert | None:
    from typer._param_types import routes_to_path

    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(tuple(annotation), info.case_sensitive)
    if annotation is str:
        return _text
    if annotation is bool:
        return _flag
    if annotation is int:
        return _integer
    if annotation is float:
        return _decimal
    if routes_to_path(annotation, info):
        return _path(annotation, info)
    return None


def _text(value: Any, _param: _TyperParameter, _ctx: Context) -> Any:
    if type(value) is not str:
        raise _Declined
    return value


def _flag(value: Any, _param: _TyperParameter, _ctx: Context) -> Any:
    if type(value) is not bool:
        raise _Declined
    return value


def _integer(value: Any, _param: _TyperParameter, _ctx: Context) -> Any:
    if type(value) is int:
        return value
    if type(value) is str and _INTEGER.fullmatch(value):
        return int(value)
    raise _Declined


def _decimal(value: Any, _param: _TyperParameter, _ctx: Context) -> Any:
    if type(value) is float:
        return value
    if type(value) is str and _DECIMAL.fullmatch(value):
        return float(value)
    raise _Declined


def _choice(choices: tuple[Any, ...], case_sensitive: bool) -> Convert:
    def convert(value: Any, _param: _TyperParameter, ctx: Context) -> Any:
        from typer._param_types import coerce_cli_choice

        try:
            return coerce_cli_choice(value, choices=choices, case_sensitive=case_sensitive, ctx=ctx)
        except ValueError:
            raise _Declined from None

    return convert


def _path(annotation: Any, info: Any) -> Convert:
    path_type = info.path_type
    if path_type is None and isinstance(annotation, type) and issubclass(annotation, Path):
        path_type = annotation

    def convert(value: Any, param: _TyperParameter, ctx: Context) -> Any:
        from typer._click.exceptions import BadParameter
        from typer._param_types import coerce_cli_path

        if type(value) is not str or not value:
            raise _Declined
        # What Typer's path conversion gives a non-empty text: the Path type built from it.
        is_path_type = isinstance(path_type, type) and issubclass(path_type, Path)
        typed = path_type(value) if is_path_type else value
        try:
            return coerce_cli_path(typed, info, path_type=path_type, param=param, ctx=ctx)
        except BadParameter:
            raise _Declined from None

    return convert


def _each(one: Convert) -> Convert:
    def convert(value: Any, param: _TyperParameter, ctx: Context) -> Any:
        items = value if isinstance(value, list | tuple) else [value]
        return [one(item, param, ctx) for item in items]

    return convert


_FAST_PARAM: Callable[..., RuntimeParam] | None = None


def _fast_param_class() -> Callable[..., RuntimeParam]:
    """The RuntimeParam subclass (defined on first use: Typer's base class is private)."""
    global _FAST_PARAM
    if _FAST_PARAM is None:
        from typer._coercion import RuntimeParam, build_runtime_param

        @dataclass(frozen=True)
        class FastRuntimeParam(RuntimeParam):
            descriptor: TypeDescriptor
            convert: Convert

            def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
                try:
                    return self.convert(value, param, ctx)
                except _Declined:
                    typer_own = build_runtime_param(self.descriptor)
                    return typer_own._coerce_value(value, param=param, ctx=ctx)

        _FAST_PARAM = FastRuntimeParam
    return _FAST_PARAM

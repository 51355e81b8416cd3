"""Keys in the order of the model that reads them: a mapping a model reads has that model's
fields in their declared order, then the keys the model does not know, as they were. A mapping
of names (resources by key, vars, inputs) keeps its order: only the fields of models move."""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Discriminator, Tag
from pydantic.fields import FieldInfo
from ruamel.yaml.comments import CommentedMap, CommentedSeq


def reorder(
    data: Any, annotation: Any, first: Mapping[type[BaseModel], Sequence[str]] | None = None
) -> None:
    """Put the mappings in `data`, read as `annotation`, in their models' order, in place; in
    a model of `first`, the fields it names go before the others."""
    _Orderer(first or {}).visit(data, annotation)


class _Orderer:
    def __init__(self, first: Mapping[type[BaseModel], Sequence[str]]) -> None:
        self.first = first

    def visit(self, data: Any, annotation: Any, discriminator: Any = None) -> None:
        origin = get_origin(annotation)
        if origin is Annotated:
            inner, *metadata = get_args(annotation)
            for item in metadata:
                if isinstance(item, Discriminator | str):
                    discriminator = item
                elif isinstance(item, FieldInfo) and item.discriminator is not None:
                    discriminator = item.discriminator
            self.visit(data, inner, discriminator)
        elif origin is Union or origin is types.UnionType:
            member = _member(data, get_args(annotation), discriminator)
            if member is not None:
                self.visit(data, member)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if isinstance(data, CommentedMap):
                self._model(data, annotation)
        elif origin is dict and isinstance(data, CommentedMap):
            value_type = get_args(annotation)[1] if get_args(annotation) else Any
            for value in data.values():
                self.visit(value, value_type)
        elif origin in (list, tuple, Sequence) and isinstance(data, CommentedSeq):
            item_type = get_args(annotation)[0] if get_args(annotation) else Any
            for item in data:
                self.visit(item, item_type)

    def _model(self, data: CommentedMap, model: type[BaseModel]) -> None:
        fields = {(info.alias or name): info for name, info in model.model_fields.items()}
        known = [key for key in self.first.get(model, ()) if key in fields]
        known += [key for key in fields if key not in known]
        keys = [key for key in known if key in data]
        keys += [key for key in data if key not in fields]
        for key in keys:
            data.move_to_end(key)
        for key, info in fields.items():
            if key in data:
                self.visit(data[key], _annotated(info), info.discriminator)


def _annotated(info: FieldInfo) -> Any:
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _member(data: Any, members: tuple[Any, ...], discriminator: Any) -> Any:
    """The member of a union that reads `data`: the one the discriminator chooses, else the
    only one that takes a mapping or a list like `data`."""
    if isinstance(discriminator, Discriminator) and callable(discriminator.discriminator):
        tag = discriminator.discriminator(data)
        return next((m for m in members if _tag(m) == tag), None)
    if isinstance(discriminator, str) and isinstance(data, dict):
        chosen = data.get(discriminator)
        for member in members:
            model = _model_of(member)
            if model is not None and chosen in _literals(model, discriminator):
                return member
        return None
    if isinstance(data, CommentedMap):
        fitting = [m for m in members if _takes_mapping(m)]
    elif isinstance(data, CommentedSeq):
        fitting = [m for m in members if get_origin(_bare(m)) in (list, tuple, Sequence)]
    else:
        return None
    if len(fitting) > 1:
        # Models: the one that knows every key written, if only one does.
        knows_all = [m for m in fitting if _knows(m, data)]
        fitting = knows_all if len(knows_all) == 1 else []
    return fitting[0] if len(fitting) == 1 else None


def _bare(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _tag(annotation: Any) -> Any:
    if get_origin(annotation) is Annotated:
        for item in get_args(annotation)[1:]:
            if isinstance(item, Tag):
                return item.tag
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    bare = _bare(annotation)
    return bare if isinstance(bare, type) and issubclass(bare, BaseModel) else None


def _takes_mapping(annotation: Any) -> bool:
    return _model_of(annotation) is not None or get_origin(_bare(annotation)) is dict


def _knows(annotation: Any, data: dict[Any, Any]) -> bool:
    model = _model_of(annotation)
    if model is None:
        return False
    names = {info.alias or name for name, info in model.model_fields.items()}
    return all(key in names for key in data)


def _literals(model: type[BaseModel], field: str) -> tuple[Any, ...]:
    info = model.model_fields.get(field)
    if info is None:
        return ()
    annotation = _bare(info.annotation)
    return get_args(annotation) if get_origin(annotation) is Literal else ()

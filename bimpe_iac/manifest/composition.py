"""The resource-file model, composed from the sections the kinds declare.

A section within another becomes a field of its holder's spec (an agent's
`knowledge_bases:`), so the models, their validation and their JSON Schema stay one thing.
Every entry's model also has the fields that decide whether and how often it is declared
(`enabled`, `environments`, `for_each`: `manifest/instances.py`), which the kinds' own specs
do not.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

from bimpe_iac.manifest.fields import EntryKey
from bimpe_iac.manifest.instances import PRESENCE, presence_fields
from bimpe_iac.manifest.models import MovedBlock, SpecModel
from bimpe_iac.model.sections import Section, Sections


def entry_types(sections: Sections) -> dict[str, Any]:
    """The pydantic type of one entry of each section, holding its nested sections."""
    return dict(_composed(sections))


@cache
def _composed(sections: Sections) -> tuple[tuple[str, Any], ...]:
    types: dict[str, Any] = {}

    def entry_type(section: Section) -> Any:
        if section.name in types:
            return types[section.name]
        held = sections.held_by(section.name)
        spec = section.spec
        if held and not (isinstance(spec, type) and issubclass(spec, BaseModel)):
            raise TypeError(f"section {section.name} holds others: its spec must be a model")
        fields: dict[str, Any] = {
            child.name: (
                dict[child.key or EntryKey, entry_type(child)],  # type: ignore[misc]
                Field(default_factory=dict, description=child.description or None),
            )
            for child in held
        }
        types[section.name] = _with_fields(section, spec, fields)
        return types[section.name]

    for section in sections:
        entry_type(section)
    return tuple(types.items())


def _with_fields(section: Section, spec: Any, fields: dict[str, Any]) -> Any:
    """`spec` (a model, or an annotated union of models) with `fields` and the presence
    fields added to each model."""
    if get_origin(spec) is Annotated:
        members = tuple(_with_fields(section, m, fields) for m in get_args(spec.__origin__))
        return Annotated[(Union[members], *spec.__metadata__)]  # noqa: UP007
    name = section.name
    if not (isinstance(spec, type) and issubclass(spec, BaseModel)):
        raise TypeError(f"section {name}: its spec must be a model or a union of models")
    clash = set(PRESENCE) & set(spec.model_fields)
    if clash:
        raise TypeError(f"section {name}: {', '.join(sorted(clash))} is a field of every entry")
    composed = create_model(
        spec.__name__,
        __base__=spec,
        __module__=spec.__module__,
        **fields,
        **presence_fields(section),
    )
    composed.__doc__ = spec.__doc__
    return composed


@cache
def resource_file_model(sections: Sections) -> type[SpecModel]:
    """The model of a resource file: each top-level section, and `moved:`."""
    types = entry_types(sections)
    fields: dict[str, Any] = {
        section.name: (
            dict[section.key or EntryKey, types[section.name]],  # type: ignore[misc]
            Field(default_factory=dict, description=section.description or None),
        )
        for section in sections.top
    }
    fields["moved"] = (list[MovedBlock], Field(default_factory=list))
    model = create_model("ResourceFile", __base__=_ResourceFile, __module__=__name__, **fields)
    model.__doc__ = _ResourceFile.__doc__
    return model


class _ResourceFile(SpecModel):
    """A file of resources: any YAML file in a stack directory other than stack.yaml."""

    model_config = ConfigDict(title="BimpeAI stack resources")

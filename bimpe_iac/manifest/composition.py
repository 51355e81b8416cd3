"""The resource-file model, composed from the sections the kinds declare.

A section within another becomes a field of its holder's spec (an agent's
`knowledge_bases:`), so the models, their validation and their JSON Schema stay one thing.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from bimpe_iac.manifest.fields import Key
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
        if held:
            if not (isinstance(spec, type) and issubclass(spec, BaseModel)):
                raise TypeError(f"section {section.name} holds others: its spec must be a model")
            fields: dict[str, Any] = {
                child.name: (
                    dict[child.key or Key, entry_type(child)],  # type: ignore[misc]
                    Field(default_factory=dict, description=child.description or None),
                )
                for child in held
            }
            spec = create_model(spec.__name__, __base__=spec, __module__=spec.__module__, **fields)
            spec.__doc__ = section.spec.__doc__
        types[section.name] = spec
        return spec

    for section in sections:
        entry_type(section)
    return tuple(types.items())


@cache
def resource_file_model(sections: Sections) -> type[SpecModel]:
    """The model of a resource file: each top-level section, and `moved:`."""
    types = entry_types(sections)
    fields: dict[str, Any] = {
        section.name: (
            dict[section.key or Key, types[section.name]],  # type: ignore[misc]
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

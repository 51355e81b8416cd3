"""The address grammar every part of the tool shares: instances of a `for_each` and resources
of a module's uses are addressed as users write them in `moved:`, `--target` and `state mv`."""

from __future__ import annotations

import pytest

from bimpe_iac.model.sections import (
    holder_of,
    in_module,
    instance_key,
    join_address,
    module_of,
    split_address,
    top_of,
)
from bimpe_iac.resources import REGISTRY


@pytest.mark.parametrize(
    ("address", "parts"),
    [
        ("agents.support", ["agents", "support"]),
        ('agents.regional["ng"]', ["agents", 'regional["ng"]']),
        (
            'agents.regional["en.gb"].knowledge_bases.faq',
            ["agents", 'regional["en.gb"]', "knowledge_bases", "faq"],
        ),
        ('phone_numbers."+2348012345678"', ["phone_numbers", "+2348012345678"]),
        ("module.brand_a.agents.support", ["module", "brand_a", "agents", "support"]),
    ],
)
def test_an_address_splits_into_its_parts_and_joins_back(address: str, parts: list[str]) -> None:
    assert split_address(address) == parts
    assert join_address(*parts) == address


@pytest.mark.parametrize(
    "address",
    ['agents.regional["ng"', 'agents.regional["n"g"]', "agents..x", 'agents."x'],
)
def test_a_malformed_address_is_refused(address: str) -> None:
    assert REGISTRY.sections.section_of(address) is None


def test_an_instance_key_is_written_as_terraform_writes_it() -> None:
    assert instance_key("regional", "ng") == 'regional["ng"]'
    assert join_address("agents", instance_key("regional", "ng")) == 'agents.regional["ng"]'


def test_a_module_prefix_is_not_a_holder() -> None:
    sections = REGISTRY.sections
    kb = "module.brand_a.agents.support.knowledge_bases.faq"
    assert sections.section_of(kb) == sections["knowledge_bases"]
    assert sections.section_of("module.brand_a.agents.support") == sections["agents"]
    assert holder_of("module.brand_a.agents.support") is None
    assert holder_of(kb) == "module.brand_a.agents.support"
    assert top_of(kb) == "module.brand_a.agents.support"
    assert module_of(kb) == "module.brand_a"
    assert module_of("agents.support") == ""
    assert in_module("module.brand_a", "workflows", "shop") == "module.brand_a.workflows.shop"
    assert sections.address("agents", "x", module="module.b") == "module.b.agents.x"

"""Response envelope models, used only to describe responses in the OpenAPI document."""

from __future__ import annotations

from typing import Generic, TypeVar

from bimpeai import PaginationMeta
from pydantic import BaseModel

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    message: str
    data: T


class Paged(BaseModel, Generic[T]):
    message: str
    data: list[T]
    meta: PaginationMeta


class ErrorBody(BaseModel):
    message: str | list[str]
    code: str
    request_id: str

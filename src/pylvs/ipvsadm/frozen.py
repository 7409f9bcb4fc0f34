"""A base for small immutable value classes written out by hand.

``@dataclass(frozen=True)`` generates its methods with ``exec`` when the
module is imported, which costs a millisecond or more per class; pylvsadm
starts once per command, so this package's value classes are written out
instead. A subclass declares ``__slots__``, lists its fields in order in
``__match_args__`` and sets them in ``__init__`` with :data:`init_field`;
it then has a dataclass's ``repr``, equality (same class, equal fields),
hash, immutability (:class:`dataclasses.FrozenInstanceError`) and pickling.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any

__all__ = ["FrozenValue", "init_field"]

# Sets a field from __init__, past the refusal of __setattr__.
init_field = object.__setattr__


class FrozenValue:
    """Frozen-dataclass behaviour over ``__match_args__`` (the fields, in order)."""

    __slots__ = ()
    __match_args__: tuple[str, ...] = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, FrozenValue)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._fields())

"""``.npz`` round trips of result containers, written once.

A frozen dataclass that inherits :class:`NpzMixin` gets :meth:`~NpzMixin.to_npz_dict`
(plain arrays for :func:`sparsefield.io.save_npz`, which writes them reproducibly, or
:func:`numpy.savez`; one per field, same names) and
:meth:`~NpzMixin.from_npz` (the inverse, from ``np.load(path, allow_pickle=False)``
or any mapping with the same keys), driven by :func:`dataclasses.fields` and the
fields' annotations:

=================  =========================  ==============================
annotation         stored as                  restored as
=================  =========================  ==============================
``np.ndarray``     the array as it is         the array as stored
``int``            0-d int64                  ``int``
``float``          0-d float64                ``float``
``bool``           0-d bool                   ``bool``
``str``            ``np.str_``                ``str``
``tuple``          1-D array of its entries   ``tuple`` of Python scalars
=================  =========================  ==============================

Any other field (e.g. a dict) needs a per-class hook: override
:meth:`~NpzMixin._pack_field` and :meth:`~NpzMixin._unpack_field` for that
field and defer to ``super()`` for the rest.  Nothing is ever pickled.
"""

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike

_SCALARS = {int: np.int64, float: np.float64, bool: np.bool_}


class NpzMixin:
    """``to_npz_dict`` / ``from_npz`` for a dataclass, from its fields' annotations."""

    if typing.TYPE_CHECKING:
        # Set by @dataclass on the subclasses: dataclasses.fields() accepts them.
        __dataclass_fields__: typing.ClassVar[dict[str, dataclasses.Field[Any]]]

    def to_npz_dict(self) -> dict[str, np.ndarray | np.generic]:
        """Plain arrays for :func:`numpy.savez` (rebuild with :meth:`from_npz`).

        Returns
        -------
        arrays : dict of str to ndarray
            One entry per field, under the field's name (scalars as 0-d arrays,
            strings as ``np.str_``), unless the class packs a field otherwise.
        """
        hints = typing.get_type_hints(type(self))
        arrays = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            arrays.update(self._pack_field(field.name, hints[field.name], value))
        return arrays

    @classmethod
    def from_npz(cls, npz: Mapping[str, ArrayLike]) -> Self:
        """Rebuild from ``np.load(path, allow_pickle=False)`` of :meth:`to_npz_dict`.

        Parameters
        ----------
        npz : mapping of str to ndarray
            An opened ``.npz`` archive or any dict with the same keys.

        Returns
        -------
        An instance of the class.
        """
        hints = typing.get_type_hints(cls)
        return cls(**{
            field.name: cls._unpack_field(field.name, hints[field.name], npz)
            for field in dataclasses.fields(cls)
        })

    def _pack_field(self, name: str, kind: Any, value: Any) -> dict[str, np.ndarray | np.generic]:
        """Arrays for one field: ``{name: array}`` by default."""
        if kind is np.ndarray:
            return {name: np.asarray(value)}
        if kind in _SCALARS:
            return {name: np.asarray(value, dtype=_SCALARS[kind])}
        if kind is str:
            return {name: np.str_(value)}
        if kind is tuple:
            return {name: np.asarray(value)}
        raise TypeError(f"{type(self).__name__}.{name}: no npz conversion for {kind!r}; "
                        "override _pack_field and _unpack_field")

    @classmethod
    def _unpack_field(cls, name: str, kind: Any, npz: Mapping[str, ArrayLike]) -> Any:
        """The value of one field from the arrays (inverse of :meth:`_pack_field`)."""
        if kind is np.ndarray:
            return np.asarray(npz[name])
        if kind in _SCALARS or kind is str:
            return kind(npz[name])
        if kind is tuple:
            return tuple(np.asarray(npz[name]).tolist())
        raise TypeError(f"{cls.__name__}.{name}: no npz conversion for {kind!r}; "
                        "override _pack_field and _unpack_field")

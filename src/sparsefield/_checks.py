"""Argument checks shared by the public functions, written once.

Each checker takes the value and the ``name`` the user knows it by (an
argument name, a config key or a file path), returns the value in the form
the code below it trusts, and otherwise raises
:class:`sparsefield.errors.InputError` whose message is ``"name: problem"``.
Public functions call these once at the boundary; the code they call
(kernels, :class:`sparsefield.rf.poisson.PoissonProblem` inside a fit) does
not check again.
"""

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield.errors import InputError

#: Orders :func:`as_times` can require.
TIME_ORDERS = ("any", "sorted", "increasing")


def as_float_array(value: ArrayLike, name: str, ndim: int, *, length: int | None = None,
                   finite: bool = True, allow_empty: bool = True) -> NDArray[np.float64]:
    """A C-contiguous float64 array with ``ndim`` dimensions.

    Parameters
    ----------
    value : array_like
        Real numbers (float, integer or bool dtype).
    name : str
        Source named in the error message.
    ndim : int
        Required number of dimensions.
    length : int, optional
        Required size of the first axis (e.g. one entry per frame).
    finite : bool, default True
        Refuse NaN and infinite values.
    allow_empty : bool, default True
        Accept an array with no elements.

    Returns
    -------
    array : ndarray of shape ``value.shape``, float64, C-contiguous
        ``value`` itself when it already is one.

    Raises
    ------
    InputError
        On the wrong number of dimensions, a non-numeric dtype, a wrong
        first-axis length, emptiness (when refused) or non-finite values
        (when refused).
    """
    array = np.asarray(value)
    if array.ndim != ndim:
        raise InputError(name, f"expected a {ndim}-D array, got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise InputError(name, f"expected real numbers, got dtype {array.dtype}")
    if length is not None and array.shape[0] != length:
        raise InputError(
            name, f"expected {length} entries along the first axis, got shape {array.shape}"
        )
    if not allow_empty and array.size == 0:
        raise InputError(name, f"is empty (shape {array.shape})")
    array = np.ascontiguousarray(array, dtype=np.float64)
    if finite and not np.all(np.isfinite(array)):
        raise InputError(name, "contains NaN or infinite values")
    return array


def as_times(value: ArrayLike, name: str, *, order: str = "any", min_length: int = 0,
             what: str = "value", unit: str = "") -> NDArray[np.float64]:
    """A 1-D float64 array of finite times, optionally in increasing order.

    Parameters
    ----------
    value : array_like of shape (n,)
        Times (any unit; nothing is converted).
    name : str
        Source named in the error message (an argument name or a file path).
    order : {"any", "sorted", "increasing"}, default "any"
        ``"sorted"``: non-decreasing; ``"increasing"``: strictly increasing.
    min_length : int, default 0
        Fewest values accepted.
    what : str, default "value"
        What one entry is called in messages (``"spike time"``, ``"edge"``);
        an ``s`` is appended for the plural.
    unit : str, default ""
        Unit printed after values in messages (e.g. ``"s"``).

    Returns
    -------
    times : ndarray of shape (n,), float64, C-contiguous

    Raises
    ------
    InputError
        If the array is not 1-D or not numeric, has fewer than
        ``min_length`` values, holds a non-finite value (the first is named
        by its 0-based index) or breaks ``order`` (the first offending pair
        is named).
    """
    if order not in TIME_ORDERS:
        raise ValueError(f"order must be one of {TIME_ORDERS}, got {order!r}")
    times = as_float_array(value, name, 1, finite=False)
    suffix = f" {unit}" if unit else ""
    if times.shape[0] < min_length:
        raise InputError(name, f"needs at least {min_length} {what}s, found {times.shape[0]}")
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        index = int(bad[0])
        raise InputError(
            name,
            f"{what} {index} (0-based) is {times[index]}; {bad.size} of {times.size} "
            f"{what}s are not finite (NaN or infinite)",
        )
    if order == "any" or times.shape[0] < 2:
        return times
    steps = np.diff(times)
    bad = np.flatnonzero(steps <= 0 if order == "increasing" else steps < 0)
    if bad.size:
        index = int(bad[0])
        first, second = times[index], times[index + 1]
        if order == "increasing":
            problem = f"{what}s must be strictly increasing"
        else:
            problem = f"{what}s must be sorted in increasing order"
        raise InputError(
            name,
            f"{problem}, but {what} {index} (0-based) is {first:.10g}{suffix} and {what} "
            f"{index + 1} is {second:.10g}{suffix}",
        )
    return times


def as_int(value: Any, name: str, minimum: int = 0, maximum: int | None = None) -> int:
    """A Python int in ``[minimum, maximum]``; bools and non-integers are refused.

    Parameters
    ----------
    value : int or numpy integer
    name : str
        Source named in the error message.
    minimum : int, default 0
    maximum : int, optional

    Returns
    -------
    int

    Raises
    ------
    InputError
        If ``value`` is not an integer (a float such as ``2.0`` or a string
        is refused too) or lies outside the range.
    """
    is_integer = isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )
    if is_integer and minimum <= value and (maximum is None or value <= maximum):
        return int(value)
    if maximum is None:
        wanted = f"an integer >= {minimum}"
    else:
        wanted = f"an integer in [{minimum}, {maximum}]"
    raise InputError(name, f"must be {wanted}, got {value!r}")


def as_float(value: Any, name: str, *, minimum: float | None = None, strict: bool = False,
             maximum: float | None = None) -> float:
    """A finite Python float, optionally bounded.

    Parameters
    ----------
    value : real number
        Not a bool and not a string (a YAML ``1e-8`` without a decimal point
        arrives as the string ``"1e-8"`` and is refused here, by name).
    name : str
        Source named in the error message.
    minimum : float, optional
        Lower bound.
    strict : bool, default False
        The lower bound is excluded (``value > minimum``).
    maximum : float, optional
        Upper bound (included).

    Returns
    -------
    float

    Raises
    ------
    InputError
        If ``value`` is not a finite real number within the bounds.
    """
    is_real = isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )
    if is_real and math.isfinite(value):
        number = float(value)
        above = minimum is None or number > minimum or (not strict and number == minimum)
        below = maximum is None or number <= maximum
        if above and below:
            return number
    if minimum is not None and maximum is not None:
        bounds = f" in {'(' if strict else '['}{minimum:g}, {maximum:g}]"
    elif minimum is not None:
        bounds = f" {'>' if strict else '>='} {minimum:g}"
    elif maximum is not None:
        bounds = f" <= {maximum:g}"
    else:
        bounds = ""
    raise InputError(
        name, f"must be a finite number{bounds}, got {value!r} ({type(value).__name__})"
    )

"""Exceptions that carry a user-facing message naming where the problem is."""


class InputError(ValueError):
    """Bad user input: a file, a sheet row or a config key that cannot be used.

    Parameters
    ----------
    source : str or os.PathLike
        What the user should look at: a file path, ``"recordings.tsv row 3"``
        or a config key such as ``"config.rf.lags"``.
    problem : str
        One sentence that says what is wrong (and, where useful, what was
        expected).
    """

    def __init__(self, source: object, problem: str) -> None:
        self.source = str(source)
        self.problem = str(problem)
        super().__init__(f"{self.source}: {self.problem}")


class FitError(RuntimeError):
    """A numerical fit that did not converge or produced non-finite values."""

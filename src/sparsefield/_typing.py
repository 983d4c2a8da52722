"""Type aliases shared by the package's annotations."""

import os
from typing import TypeAlias

#: A file or folder path as the public functions take it.
StrPath: TypeAlias = str | os.PathLike[str]

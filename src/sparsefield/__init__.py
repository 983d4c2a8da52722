"""sparsefield: receptive fields from spikes and from sparse coding.

The package is split by concept: :mod:`sparsefield.io` reads and checks raw
recordings, :mod:`sparsefield.rf` estimates receptive fields from spikes, and
:mod:`sparsefield.plots` draws figures from plain arrays.  Importing the
package itself is cheap: nothing heavy is imported here.
"""

__version__ = "0.1.0"

"""pyudf worker package: the Python half of pyudf (see protocol.md).

Deliberately imports nothing: `pyudf.worker` must be able to report a missing pyarrow/pyzmq/numpy
itself (exit status 3) instead of dying on an ImportError here.
"""

__version__ = "0.1.0"

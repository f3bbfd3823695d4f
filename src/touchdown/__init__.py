"""touchdown: a lunar landing simulator.

It flies a lander's flight software over the real Moon, breaks its sensors and engines on purpose,
and says how often the landing succeeds and why it fails. See ARCHITECTURE in the docs for the map.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("touchdown")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

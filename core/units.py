"""The units brim reads, one table per quantity, shared by every reader and plot.

brim stores SI units in files and schemas (lengths in metres) and converts once, in the readers;
the plots show millimetres. Both conversions read the table here, so a unit that one reader
accepts is accepted, and drawn, everywhere.
"""

from __future__ import annotations

__all__ = ["LENGTH_TO_M"]

#: factor to metres of each length unit brim reads (``units`` attribute spellings)
LENGTH_TO_M = {"m": 1.0, "cm": 1e-2, "mm": 1e-3, "um": 1e-6, "µm": 1e-6}

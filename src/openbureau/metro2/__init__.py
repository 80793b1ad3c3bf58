"""Metro 2 (CRRG character format): a streaming reader, a writer and the map to the furnishing standard.

A pure codec: it knows the format and nothing of the bureau's store, so intake and the simulator can use
it. See docs/metro2.md.
"""

from openbureau.metro2.errors import CODES, Metro2Error
from openbureau.metro2.reader import read, read_bytes, read_frames
from openbureau.metro2.records import Record, SegmentValues
from openbureau.metro2.writer import base, header, with_trailer, write

__all__ = ["CODES", "Metro2Error", "Record", "SegmentValues", "base", "header", "read", "read_bytes",
           "read_frames", "with_trailer", "write"]

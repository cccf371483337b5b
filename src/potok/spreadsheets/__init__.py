"""Tables in files: CSV and XLSX read row by row and written row by row, never whole.

Nothing here knows what the rows mean; the services that import and export stock,
products or orders name their columns (in English and Russian) and read the cells.
"""

from potok.spreadsheets.columns import Column, ColumnMap, map_header
from potok.spreadsheets.formats import FileFormat, UnknownFormat, format_of
from potok.spreadsheets.reading import BadFile, Record, read_table
from potok.spreadsheets.writing import write_table

__all__ = [
    "BadFile",
    "Column",
    "ColumnMap",
    "FileFormat",
    "Record",
    "UnknownFormat",
    "format_of",
    "map_header",
    "read_table",
    "write_table",
]

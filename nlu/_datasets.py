"""Reading labelled complaint files (JSONL, CSV, XLSX)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

__all__ = ["DatasetError", "read_labelled"]


class DatasetError(ValueError):
    """A labelled file cannot be read.

    Attributes:
        path: The file concerned.
    """

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def _rows_jsonl(path: Path) -> list[dict[str, object]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{number}: invalid JSON: {exc}", path) from exc
    return rows


def _rows_csv(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",\t;")
        except csv.Error:
            dialect = csv.excel
        return list(csv.DictReader(fh, dialect=dialect))


def _rows_xlsx(path: Path) -> list[dict[str, object]]:
    try:
        import openpyxl
    except ImportError as exc:
        raise DatasetError(
            "reading .xlsx needs the optional package openpyxl "
            "(pip install openpyxl), or save the sheet as CSV",
            path,
        ) from exc
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = book.active
    rows_iter = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows_iter, [])]
    return [dict(zip(header, row, strict=False)) for row in rows_iter]


def read_labelled(path: Path, text_field: str, label_field: str) -> tuple[list[str], list[str]]:
    """Read (text, label) pairs, skipping rows where either is empty.

    Args:
        path: ``.jsonl``/``.json`` lines, ``.csv``/``.tsv`` or ``.xlsx`` file.
        text_field: Column or key holding the text.
        label_field: Column or key holding the label.

    Returns:
        Parallel lists of texts and labels.

    Raises:
        DatasetError: If the file is missing, unreadable, or lacks the fields.
    """
    if not path.is_file():
        raise DatasetError(f"no such file: {path}", path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = _rows_jsonl(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        rows = _rows_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _rows_xlsx(path)
    else:
        raise DatasetError(f"unsupported file type {suffix!r} (use .jsonl, .csv or .xlsx)", path)
    if rows and (text_field not in rows[0] or label_field not in rows[0]):
        raise DatasetError(
            f"fields {text_field!r}/{label_field!r} not found; available: {sorted(rows[0])}", path
        )
    texts, labels = [], []
    for row in rows:
        text, label = row.get(text_field), row.get(label_field)
        if text is None or label is None:
            continue
        text_s, label_s = str(text).strip(), str(label).strip()
        if text_s and label_s:
            texts.append(text_s)
            labels.append(label_s)
    return texts, labels

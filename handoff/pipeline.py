"""The upload pipeline without a page: read → propose → apply → pending → load.

The Data page runs these same steps with the user's edits between them; tests, benchmarks and
scripts call `prepare` and `load_files`, so every caller reads, proposes and validates a file
exactly as the page does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handoff import dataset, ingest, mapping, proposal
from handoff.dataset import Pending
from handoff.db import Database
from handoff.ingest import RawTable, UploadError
from handoff.mapping import Mapping


@dataclass(frozen=True)
class Unloadable:
    """A file that will not be loaded, and why (the others load without it)."""

    file_name: str
    message: str


def unreadable(name: str, error: UploadError) -> Unloadable:
    """A file that could not be read: its message without the file's name, which is shown
    beside it ("x.csv: x.csv does not look like…" said the name twice)."""
    text = str(error)
    return Unloadable(name, text[len(name):].lstrip(" :,") if text.startswith(name) else text)


def read(name: str, data: bytes, sheet: str | None = None,
         progress: Callable[[float], None] | None = None,
         max_mb: int = ingest.MAX_UPLOAD_MB) -> RawTable | UploadError:
    """The file's raw table, or the message saying why it cannot be read: a file, however
    broken, never raises out of here."""
    try:
        return ingest.read_upload(name, data, sheet, progress=progress, max_mb=max_mb)
    except UploadError as e:
        return e
    except Exception as e:  # noqa: BLE001 - a file must never crash the app
        return UploadError(f"{name} could not be read ({type(e).__name__}: {str(e)[:120]}). "
                           "Export it again as CSV and retry.")


def proposed(raws: Sequence[RawTable], forced: dict[int, str] | None = None) -> list[Mapping]:
    """Each file's proposed mapping, with the other files in view (shared ids link them)."""
    return proposal.propose_all(list(raws), forced or {})


def pending(raw: RawTable, m: Mapping) -> Pending:
    """The file mapped and validated, waiting to be loaded."""
    frame, validation = mapping.apply(raw, m)
    return Pending(raw.file_name, m, frame, validation)


def prepare(files: Sequence[tuple[str, bytes]],
            max_mb: int = ingest.MAX_UPLOAD_MB) -> list[Pending | Unloadable]:
    """What the Data page shows for these files with the proposed mappings unchanged."""
    raws = [read(name, data, max_mb=max_mb) for name, data in files]
    readable = [r for r in raws if isinstance(r, RawTable)]
    mappings = iter(proposed(readable))
    return [pending(r, next(mappings)) if isinstance(r, RawTable)
            else unreadable(name, r) for (name, _), r in zip(files, raws, strict=True)]


def load_files(files: Sequence[tuple[str, bytes]], current: Database | None = None,
               keep_current: bool = False, max_mb: int = ingest.MAX_UPLOAD_MB) -> Database:
    """A database from these files with the proposed mappings, as pressing Load would give;
    raises ValueError naming every file that could not load."""
    prepared = prepare(files, max_mb)
    problems = [f"{p.file_name}: {p.message}" if isinstance(p, Unloadable)
                else f"{p.file_name}: {'; '.join(p.validation.problems)}"
                for p in prepared if isinstance(p, Unloadable) or not p.validation.ok]
    if problems:
        raise ValueError("; ".join(problems))
    return dataset.load([p for p in prepared if isinstance(p, Pending)], current,
                        keep_current)

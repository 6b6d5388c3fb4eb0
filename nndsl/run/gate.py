"""The run's gate: every file a run writes, and every file it deletes, goes through here.

``nndsl check`` already held each path the program names to the rules of :mod:`nndsl.paths`;
the gate applies the same rules again just before the write, when the file system may have
changed since (a link made, a folder filled), and keeps the list of what the run created, so
that nothing is deleted the run did not create.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..paths import DEFAULT_GRANTS, READ, SCRATCH_DIR, WRITE, WRITE_DIR, Grants, Refusal, absolute, check_write, real, reserved


class Refused(Exception):
    """A write the rules refuse; the step that asked turns it into a located error."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


class Gate:
    """The rules of one run: where it may write, what it reads, what it has created.

    Args:
        base: the folder of the ``.nn`` file; relative paths start there.
        grants: what the command line granted.
        inputs: every file the program reads: absolute path -> what it is.
        reserved_names: the files nndsl keeps next to the ``.nn`` file: path -> what it is.
    """

    def __init__(self, base: Path, *, grants: Grants = DEFAULT_GRANTS, inputs: dict[Path, str] | None = None,
                 reserved_names: dict[Path, str] | None = None) -> None:
        self.base = Path(base)
        self.grants = grants
        self.inputs = dict(inputs or {})
        self.reserved_names = dict(reserved_names or {})
        self._created: set[Path] = set()

    @classmethod
    def for_program(cls, checked, base: Path | None = None, grants: Grants | None = None) -> Gate:
        """The gate of a checked program: its reads (found at check time) are the inputs."""
        nn_file = checked.nn_file
        if base is None:
            base = nn_file.parent if nn_file is not None else Path.cwd()
        inputs = dict(checked.inputs)
        if not inputs:  # checked without its file (text): what it reads, all of it
            inputs = {absolute(a.path, base): a.what for a in checked.files if a.kind == READ}
        if nn_file is not None:
            inputs[nn_file] = "the .nn file itself"
        return cls(base, grants=checked.grants if grants is None else grants, inputs=inputs,
                   reserved_names=reserved(nn_file) if nn_file is not None else {})

    def path(self, written: str | Path) -> Path:
        """Where a path the program writes is, relative to the ``.nn`` file's folder."""
        return absolute(written, self.base)

    def check(self, written: str | Path, kind: str = WRITE, *, own: bool = False) -> Path:
        """The absolute path of a write of ``kind``, once the rules allow it.

        Args:
            written: the path as the program writes it.
            kind: :data:`~nndsl.paths.WRITE`, :data:`~nndsl.paths.WRITE_DIR` or
                :data:`~nndsl.paths.SCRATCH_DIR`.
            own: nndsl writes one of the files it keeps (the resume checkpoint, the run record).

        Raises:
            Refused: the write breaks a rule.
        """
        refusal = check_write(written, kind, base=self.base, grants=self.grants, inputs=self.inputs,
                              reserved_names={} if own else self.reserved_names)
        if refusal is not None:
            raise Refused(refusal)
        return self.path(written)

    def created(self, path: str | Path) -> None:
        """Note that the run created ``path`` (a file or a folder): it may delete it later."""
        self._created.add(real(self.path(path)))

    def owns(self, path: str | Path) -> bool:
        """Whether the run created ``path``, or it lies in a folder the run created."""
        target = real(self.path(path))
        return any(target == c or c in target.parents for c in self._created)

    def scratch_folder(self, written: str | Path) -> Path:
        """A folder a callback owns and deletes (BackupAndRestore's): checked, made when missing."""
        folder = self.check(written, SCRATCH_DIR)
        if not folder.exists():
            folder.mkdir(parents=True)
            self.created(folder)
        else:  # an empty folder the user made: Keras deletes it after training, nndsl puts it back
            self._kept_folders = getattr(self, "_kept_folders", set()) | {folder}
        return folder

    def restore_folders(self) -> None:
        """Make again the empty folders of the user's that a callback deleted (see :meth:`scratch_folder`)."""
        for folder in getattr(self, "_kept_folders", ()):
            folder.mkdir(parents=True, exist_ok=True)

    def write_folder(self, written: str | Path) -> Path:
        """A folder a callback writes files into (TensorBoard's): checked, made when missing."""
        folder = self.check(written, WRITE_DIR)
        if not folder.exists():
            folder.mkdir(parents=True)
            self.created(folder)
        return folder

    def remove(self, path: str | Path) -> bool:
        """Delete ``path`` if the run created it; a file it did not create is left as it is.

        Returns:
            Whether something was deleted.
        """
        target = self.path(path)
        if not self.owns(target) or not os.path.lexists(target):
            return False
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
        self._created.discard(real(target))
        return True

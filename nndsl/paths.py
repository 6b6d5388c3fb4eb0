"""What a program may touch: the grants of the command line and the rules every path obeys.

A ``.nn`` file is untrusted input: someone else may have written it. By default a program may
write only inside the folder tree of its own ``.nn`` file, never onto a file it reads, and may
not open connections. The command line grants more (``--allow-write DIR``, ``--allow-network``);
:class:`Grants` carries what it granted to the checker and the runner. The rules here are pure
(they look at the file system, never change it), so ``nndsl check`` applies them without
running anything; the run applies the same rules again just before each write.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Grants:
    """What the command line grants a program beyond the defaults.

    Attributes:
        network: names that open connections (``RemoteMonitor``) may be used.
        write: folders, besides the ``.nn`` file's own folder tree, the program may write in.
    """

    network: bool = False
    write: tuple[Path, ...] = ()


DEFAULT_GRANTS = Grants()
"""Nothing granted: the rules a program obeys unless the command line says otherwise."""

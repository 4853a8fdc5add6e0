"""The ``twitter-upload-mock`` command: runs the server binary with the same arguments."""
from __future__ import annotations

import os
import sys
from typing import NoReturn

from .server import BinaryNotFound, find_binary


def main() -> NoReturn:
    """Replaces this process with the server binary (see :func:`find_binary`)."""
    try:
        binary = find_binary()
    except BinaryNotFound as error:
        sys.stderr.write(f"twitter-upload-mock: {error}\n")
        sys.exit(127)
    os.execv(binary, [binary, *sys.argv[1:]])

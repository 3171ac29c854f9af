"""The ``xinfang`` console script: every manage.py command, plus ``demo``, ``serve`` and ``seed``.

xinfang migrate            # any Django command
xinfang seed --petitions N # demo data (see xinfang/demo)
xinfang demo               # migrate, seed the demo, serve on 127.0.0.1:$PORT
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["xinfang", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Django's command-line utility; the same as the ``xinfang`` console script."""

from xinfang.cli import main

if __name__ == "__main__":
    main()

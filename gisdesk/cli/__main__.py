"""`python -m gisdesk.cli`: the same as the `gisdesk` console script."""
from gisdesk.cli import main

if __name__ == "__main__":
    main(prog_name="gisdesk")

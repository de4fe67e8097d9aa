"""gisdesk: a web-mapping desk for election security in Indonesian cities."""

__version__ = "0.1.0"

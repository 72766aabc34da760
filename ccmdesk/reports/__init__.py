"""PDF and CSV writers: data in, bytes out."""

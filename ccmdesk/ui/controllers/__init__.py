"""What MainWindow delegates: locking the screen and importing files."""

"""Patients' time: the stopwatch, entries by hand, corrections and the logs, a service each."""

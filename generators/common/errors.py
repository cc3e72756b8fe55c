"""The one error type converters raise for bad input; the CLI prints it as one line and exits 1."""


class InputError(Exception):
    """Bad input: the message names the file/record/argument and says how to fix it."""

"""The one error type for bad input (a file, a record, an argument): its message names what is wrong and
how to fix it, on one line. The converters raise it; the CLI prints it and exits 1."""


class InputError(Exception):
    """Bad input: the message names the file/record/argument and says how to fix it."""

"""The one exception aevis raises for problems a user can fix."""


class AevisError(Exception):
    """A problem with the user's input, told in one sentence.

    The command line prints the message and exits with status 2, without a traceback.
    """

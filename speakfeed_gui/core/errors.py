"""The project's own exceptions.

Every error a user can cause is a `SpeakFeedError` whose message is one line naming the file,
field or value at fault and what would be valid. The CLI prints it without a traceback and the
GUI shows it in a message box.
"""


# Control characters a user's value may carry into a message (a YAML key "\n", a file name
# with a tab), written as escapes so the message stays one line.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {
    ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


class SpeakFeedError(Exception):
    """Base of every user-facing error; its message is always one line."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(str(message).translate(_ESCAPES), *args)


class ConfigError(SpeakFeedError):
    """models.yaml (or another settings file) is missing, malformed or has a bad value."""


class ModelNotFoundError(SpeakFeedError):
    """No factory model, registry id or alias by that name."""


class ModelLoadError(SpeakFeedError):
    """A model exists but cannot be loaded (missing weights, missing optional package...)."""


class DatasetError(SpeakFeedError):
    """A dataset path, CSV or audio file cannot be used."""


class AudioError(SpeakFeedError):
    """An audio file or buffer cannot be decoded or is unusable."""


class HyperparameterError(SpeakFeedError):
    """A hyperparameter name, type or value is not accepted by the estimator."""


class StorageError(SpeakFeedError):
    """A file cannot be written (disk full, read-only, permission); the old one is untouched."""


class RegistryError(StorageError):
    """The registry file is corrupt, locked too long, or cannot be written."""


class IntegrityError(SpeakFeedError):
    """An artifact's content does not match its recorded sha256, or a bundle is unsafe."""


class DeviceError(SpeakFeedError):
    """No usable audio input device, or the device failed mid-stream."""


class SessionError(SpeakFeedError):
    """A session file is missing, unreadable or not a SpeakFeed session."""


class Cancelled(SpeakFeedError):
    """Work was cancelled by the user through a CancelToken."""


def first_line(exc: BaseException | object, limit: int | None = None) -> str:
    """The first line of an exception's (or warning's) text, for one-line messages; its class name if empty."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line[:limit] if limit else line

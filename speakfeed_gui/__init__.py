"""SpeakFeed: live vocal-emotion and delivery feedback for public speakers."""

__version__ = "0.1.0"

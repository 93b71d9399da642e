"""Launch the SpeakFeed desktop app: `python main.py [--workspace FOLDER]`."""

from speakfeed_gui.ui.app import main

if __name__ == "__main__":
    raise SystemExit(main())

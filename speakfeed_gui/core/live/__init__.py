"""Live analysis without Qt: capture -> ring buffer -> VAD, prosody and model per window -> session.

Modules, bottom up: ringbuffer, capture (PortAudio), vad, prosody, analyzer (WindowAnalyzer,
LiveAnalyzer, analyze_array), session (SessionRecorder, load_session), report (summarize).
Nothing here imports sounddevice, librosa or torch until it is used.
"""

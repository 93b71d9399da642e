"""Live analysis without Qt: audio windows -> prosody and model per window -> session -> report.

Capture, the ring buffer and VAD live in `core.audio`; here: prosody, the analyzer (WindowAnalyzer,
LiveAnalyzer, analyze_array), the session (SessionRecorder, load_session), the transcript and the
report (summarize). Nothing here imports sounddevice, librosa or torch until it is used.
"""

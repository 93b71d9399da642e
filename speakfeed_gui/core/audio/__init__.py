"""Audio in: decoding and resampling files, levels, capture (PortAudio), the ring buffer, VAD, devices.

Nothing here imports sounddevice, librosa or torch until it is used.
"""

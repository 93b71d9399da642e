"""`speakfeed analyze` (a recording, offline) and `speakfeed live` (the microphone, in the terminal).

Both run the same windows as the Live Feedback tab, write a session file into the workspace's
pipeline_results/ folder and print the end-of-session report.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from speakfeed_gui.cli.common import factory_from, print_json, print_table, workspace_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("analyze", help="analyse a recording window by window and print the session report")
    p.add_argument("file", metavar="FILE.wav")
    _common_options(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=run_analyze)

    p = subparsers.add_parser("live", help="live feedback from the microphone in the terminal (Ctrl-C stops)")
    _common_options(p)
    p.add_argument("--seconds", type=float, help="stop after this many seconds of audio (default: until Ctrl-C)")
    p.add_argument("--device", help="input device index or name (default: the system default; see --list-devices)")
    p.add_argument("--list-devices", action="store_true", help="list the input devices and exit")
    p.add_argument("--record", action="store_true", help="also save the audio as a WAV next to the session file")
    p.set_defaults(handler=run_live)


def _common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="configured model name, registry id or alias (default: default_model)")
    p.add_argument("--out", help="folder for the session file (default: the workspace's pipeline_results/)")
    p.add_argument("--vad", choices=("auto", "silero", "energy"), help="voice activity detector (default: live.vad)")


def _setup(args: argparse.Namespace, sample_rate: int, *, record: bool = False, source: str | None = None):
    """Model, live settings and a SessionRecorder from the workspace configuration."""
    from speakfeed_gui.core.live.session import SessionRecorder, recorder_cipher

    factory = factory_from(args)
    model = factory.resolve(args.model).load()
    settings = factory.config.live
    if args.vad:
        settings = replace(settings, vad=args.vad)
    sessions_dir = Path(args.out) if args.out else workspace_from(args).sessions_dir
    recorder = SessionRecorder(
        sessions_dir,
        model_info=model.get_model_info(),
        settings=asdict(settings),
        add_timestamps=factory.config.inference.add_timestamps,
        record_audio=record,
        sample_rate=sample_rate,
        source=source,
        cipher=recorder_cipher(factory.config.privacy),
    )
    return model, settings, recorder


def _print_report(recorder: Any, settings: Any, as_json: bool = False) -> None:
    from speakfeed_gui.core.live.report import summarize

    report = summarize(recorder.document, settings.targets)
    report.path = str(recorder.path)
    if as_json:
        print_json(report.to_dict())
        return
    print(f"session: {recorder.path}  ({report.status})")
    print(f"duration {report.duration_seconds:.1f} s, speech {report.speech_seconds:.1f} s, "
          f"{report.speech_windows}/{report.windows} windows with speech")
    if report.emotion_share:
        print("emotions: " + ", ".join(f"{k} {v:.0%}" for k, v in report.emotion_share.items()))
    rows = [(k, "-" if v is None else v, report.prosody_status.get(k) or "") for k, v in report.prosody.items()]
    print_table(["measure", "median", "target"], rows)
    for note in report.observations:
        print(f"- {note}")


def run_analyze(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.audio.decode import SAMPLE_RATE, load_audio
    from speakfeed_gui.core.live.analyzer import analyze_array

    audio = load_audio(args.file)
    model, settings, recorder = _setup(args, SAMPLE_RATE, source=str(Path(args.file).resolve()))
    try:
        analyze_array(audio, SAMPLE_RATE, model, settings, on_result=recorder.append)
    except BaseException as exc:
        recorder.close("error", message=f"{exc.__class__.__name__}: {exc}")
        raise
    recorder.close("completed")
    _print_report(recorder, settings, args.json)
    return 0


def format_result(result: Any) -> str:
    """One terminal line per window: time, label, confidence, level, pitch."""
    line = f"{result.t_end:7.1f}s  {result.label:<12}"
    line += f" {result.confidence:4.0%}" if result.prediction else "     "
    line += f"  {result.level_dbfs:6.1f} dBFS"
    if result.prosody.pitch_hz is not None:
        line += f"  pitch {result.prosody.pitch_hz:5.0f} Hz"
    return line


def _list_devices() -> int:
    from speakfeed_gui.core.audio.capture import list_input_devices

    devices = list_input_devices()
    if not devices:
        print("no audio input devices found", file=sys.stderr)
        return 1
    rows = [(d.index, d.name, d.hostapi, d.max_input_channels, int(d.default_samplerate), "*" if d.is_default else "")
            for d in devices]
    print_table(["index", "name", "host API", "channels", "rate", "default"], rows)
    return 0


def run_live(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.audio.capture import AudioCapture
    from speakfeed_gui.core.errors import DeviceError
    from speakfeed_gui.core.live.analyzer import LiveAnalyzer, compute_stats

    if args.list_devices:
        return _list_devices()
    # as in the Live tab, torch (silero VAD, transformers) runs on one thread: its small per-window
    # ops stall for tens of ms on several threads of a busy machine; read when torch is first imported
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    capture = AudioCapture(args.device)
    capture.start()
    try:
        model, settings, recorder = _setup(args, capture.samplerate, record=args.record, source=capture.device.label)
        analyzer = LiveAnalyzer(
            capture,
            model,
            settings,
            on_result=lambda r: print(format_result(r), flush=True),
            on_error=lambda message: print(f"speakfeed: {message}", file=sys.stderr, flush=True),
            session=recorder,
        )
        print(f"listening on {capture.device.label} at {capture.samplerate} Hz with {model.name}; Ctrl-C stops",
              file=sys.stderr)
        analyzer.start()
        try:
            origin = capture.ring.total_written
            while analyzer.running:
                heard = (capture.ring.total_written - origin) / capture.samplerate
                if args.seconds is not None and heard >= args.seconds:
                    break
                time.sleep(0.05)
        except KeyboardInterrupt:
            pass
        finally:
            analyzer.stop()
    finally:
        capture.stop()
    stats = compute_stats(analyzer.compute_ms)
    print(f"analysis: median {stats['median_ms']:.0f} ms per window, {analyzer.skipped} windows skipped, "
          f"{capture.overflows} input overflows", file=sys.stderr)
    _print_report(recorder, settings)
    if capture.error:
        raise DeviceError(capture.error)
    return 0

"""`speakfeed analyze` (a recording, offline) and `speakfeed live` (the microphone, in the terminal).

Both go through the core live runner the Live Feedback tab uses (the same model, voice detector,
speech recogniser, warm-up and torch threads), write a session file into the workspace's
pipeline_results/ folder and print the end-of-session report, words per minute included.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
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
    p.add_argument("--model", help="configured model name, registry id or alias (default: as the Live tab, the live alias, else default_model)")
    p.add_argument("--out", help="folder for the session file (default: the workspace's pipeline_results/)")
    p.add_argument("--vad", choices=("auto", "silero", "energy"), help="voice activity detector (default: live.vad)")
    p.add_argument("--no-transcribe", action="store_true",
                   help="no speech recognition beside the model (as live.transcribe: false)")


def _live_model(factory: Any, workspace: Any) -> str:
    """The model the Live tab would use: the registry's `live` alias, else default_model (core rule)."""
    from speakfeed_gui.core.models.live_choice import live_model_ref
    from speakfeed_gui.core.registry.api import ModelRegistry

    return live_model_ref(factory.config.default_model, ModelRegistry(workspace.registry_path).aliases())


def _prepare(args: argparse.Namespace):
    """The configuration with the command's overrides, the loaded and warmed-up analysis, the sessions folder."""
    from speakfeed_gui.cli.common import TerminalProgress
    from speakfeed_gui.core.live.runner import prepare_analysis

    factory = factory_from(args)
    config = factory.config
    live = config.live
    if args.vad:
        live = replace(live, vad=args.vad)
    if args.no_transcribe:
        live = replace(live, transcribe=False)
    config = replace(config, live=live)
    workspace = workspace_from(args)
    model = factory.resolve(args.model or _live_model(factory, workspace))
    prepared = prepare_analysis(model, live, workspace)(TerminalProgress(), None)
    sessions_dir = Path(args.out) if args.out else workspace.sessions_dir
    return config, prepared, sessions_dir


def _print_report(report: Any, as_json: bool = False) -> None:
    if as_json:
        print_json(report.to_dict())
        return
    print(f"session: {report.path}  ({report.status})")
    print(f"duration {report.duration_seconds:.1f} s, speech {report.speech_seconds:.1f} s, "
          f"{report.speech_windows}/{report.windows} windows with speech")
    if report.emotion_share:
        print("emotions: " + ", ".join(f"{k} {v:.0%}" for k, v in report.emotion_share.items()))
    rows = [(k, "-" if v is None else v, report.prosody_status.get(k) or "") for k, v in report.prosody.items()]
    print_table(["measure", "value", "target"], rows)
    if report.words:
        words = report.words
        fillers = ", ".join(f"{k} {v}" for k, v in words["fillers"].items()) or "none"
        print(f"words: {words['word_count']} in {words['speech_seconds']:.1f} s, "
              f"{words['words_per_minute']:.0f} per minute; fillers: {fillers}")
        repeated = {**words["repeats"]["immediate"], **words["repeats"]["phrases"]}
        if repeated:
            print("repeated: " + ", ".join(f"\"{k}\" {v}x" for k, v in repeated.items()))
        print(f"transcript: {report.transcript}")
    for note in report.observations:
        print(f"- {note}")


def run_analyze(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.audio.decode import SAMPLE_RATE, load_audio
    from speakfeed_gui.core.live.runner import analyze_recording, session_report

    audio = load_audio(args.file)
    config, prepared, sessions_dir = _prepare(args)
    recorder = analyze_recording(prepared, config, audio, SAMPLE_RATE, sessions_dir,
                                 source=str(Path(args.file).resolve()))
    _print_report(session_report(recorder.document, config.live, recorder.path), args.json)
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


def _print_message(kind: str, item: Any) -> None:
    """The runner's messages as terminal lines (from its worker threads)."""
    if kind == "result":
        print(format_result(item), flush=True)
    elif kind == "transcript":
        print(f"{item.start:7.1f}s  > {item.text}", flush=True)
    else:
        print(f"speakfeed: {item}", file=sys.stderr, flush=True)


def run_live(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.audio.capture import AudioCapture
    from speakfeed_gui.core.errors import DeviceError
    from speakfeed_gui.core.live.analyzer import compute_stats
    from speakfeed_gui.core.live.runner import LiveRunner

    if args.list_devices:
        return _list_devices()
    capture = AudioCapture(args.device)  # finds the device before loading the model: no device is one line, at once
    config, prepared, sessions_dir = _prepare(args)
    capture.start()  # listening starts when the analysis is ready, as in the Live tab
    run = LiveRunner.start(prepared, config, sessions_dir, capture=capture, record_audio=args.record,
                           on_message=_print_message)
    print(f"listening on {capture.device.label} at {capture.samplerate} Hz with {prepared.model.name}; "
          "Ctrl-C stops", file=sys.stderr)
    try:
        while run.analyzer.running:
            if args.seconds is not None and run.elapsed() >= args.seconds:
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        run.close()
    stats = compute_stats(run.analyzer.compute_ms)
    print(f"analysis: median {stats['median_ms']:.0f} ms per window, {run.analyzer.skipped} windows skipped, "
          f"{capture.overflows} input overflows", file=sys.stderr)
    if run.transcription is not None:
        heard = run.transcription.compute_seconds
        print(f"speech recognition: {len(heard)} segments, {sum(a for a, _ in heard):.1f} s of speech in "
              f"{sum(t for _, t in heard):.1f} s", file=sys.stderr)
    _print_report(run.report())
    if capture.error:
        raise DeviceError(capture.error)
    return 0

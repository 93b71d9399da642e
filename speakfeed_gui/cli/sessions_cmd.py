"""`speakfeed sessions ...`: the History tab's list, report, trends and delete from the terminal."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from speakfeed_gui.cli.common import print_json, print_table, workspace_from
from speakfeed_gui.core.errors import SpeakFeedError

_SHORT = {"speaking_rate_sps": "syll/s", "words_per_minute": "wpm", "pause_share": "pause",
          "pitch_variation_semitones": "pitch st", "loudness_dbfs": "dBFS", "filler_per_minute": "fillers/min"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sessions", help="past sessions: list, report, trends over time, delete")
    p.add_argument("--dir", help="sessions folder (default: the workspace's pipeline_results/)")
    sub = p.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)
    q = sub.add_parser("list", help="every session with its delivery measures")
    q.add_argument("--json", action="store_true", help="print JSON")
    _dates(q)
    q.set_defaults(handler=list_sessions_cmd)
    q = sub.add_parser("show", help="one session's report and its moments")
    q.add_argument("session", metavar="ID", help="session id (e.g. 20261201_191500), unique prefix or file")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(handler=show)
    q = sub.add_parser("trend", help="each measure and emotion share over sessions, with bands and personal bests")
    q.add_argument("--json", action="store_true", help="print JSON")
    _dates(q)
    q.set_defaults(handler=trend_cmd)
    q = sub.add_parser("delete", help="delete a session and its recording for good")
    q.add_argument("session", metavar="ID")
    q.set_defaults(handler=delete)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date as YYYY-MM-DD") from None


def _dates(q: argparse.ArgumentParser) -> None:
    q.add_argument("--since", type=_day, help="first day to include (YYYY-MM-DD)")
    q.add_argument("--until", type=_day, help="last day to include (YYYY-MM-DD)")


def _index(args: argparse.Namespace):
    from speakfeed_gui.core.live.history import HistoryIndex
    from speakfeed_gui.core.settings.config import load_config
    from speakfeed_gui.core.storage.crypto import KeySource

    folder = Path(args.dir) if args.dir else workspace_from(args).sessions_dir
    if args.dir and not folder.is_dir():
        raise SpeakFeedError(f"--dir {folder}: no such folder")
    return HistoryIndex(folder, KeySource(load_config(workspace_from(args).config_path).privacy.key_file))


def _live(args: argparse.Namespace):
    from speakfeed_gui.core.settings.config import load_config

    return load_config(workspace_from(args).config_path).live


def _targets(args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    return dict(_live(args).targets)


def _fmt(value) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def list_sessions_cmd(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.live.history import MEASURES, in_range

    summaries = in_range(_index(args).load(), args.since, args.until)
    if args.json:
        print_json([s.to_dict() for s in summaries])
        return 0
    if not summaries:
        print("no sessions yet: record one with `speakfeed live` or the Live Feedback tab")
        return 0
    rows = [(s.id, str(s.started_at or "")[:16].replace("T", " "), s.status, f"{s.duration_seconds:.0f} s",
             s.model or "", *(_fmt(s.measures.get(m)) for m in MEASURES), "yes" if s.audio_path else "")
            for s in summaries]
    print_table(["id", "started", "status", "length", "model", *(_SHORT[m] for m in MEASURES), "audio"], rows)
    return 0


def show(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.live.moments import find_moments
    from speakfeed_gui.core.live.report import summarize
    from speakfeed_gui.core.live.session import load_session

    index = _index(args)
    summary = index.find(args.session)
    live = _live(args)
    session = load_session(summary.path, index.keys)
    report = summarize(session, live.targets)
    moments = find_moments(session, live.targets, filler_words=live.filler_words)
    if args.json:
        print_json({"summary": summary.to_dict(), "report": report.to_dict(),
                    "moments": [m.to_dict() for m in moments]})
        return 0
    print(f"session {summary.id}: {summary.started_at} · {summary.status} · model {summary.model or '?'}")
    print(f"{report.duration_seconds:.1f} s in total, {report.speech_seconds:.1f} s of speech")
    print_table(["measure", "median", "rating"],
                [(k, _fmt(v), report.prosody_status.get(k) or "") for k, v in report.prosody.items()])
    for note in report.observations:
        print(f"- {note}")
    if moments:
        print("moments:")
        print_table(["from", "to", "moment", "what"],
                    [(f"{m.start:.1f} s", f"{m.end:.1f} s", m.kind, m.detail) for m in moments])
    return 0


def trend_cmd(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.live.history import trend

    data = trend(_index(args).load(), _targets(args), args.since, args.until)
    if args.json:
        print_json(data)
        return 0
    print(f"{data['sessions']} sessions")
    rows = []
    for name, m in data["measures"].items():
        values = [p["value"] for p in m["points"]]
        band = m["band"]
        best = m["best"]
        rows.append((name, len(values), _fmt(values[0]) if values else "", _fmt(values[-1]) if values else "",
                     f"{band[0]:g}–{band[1]:g}" if band else "",
                     f"{_fmt(best['value'])} ({best['session']})" if best else ""))
    print_table(["measure", "sessions", "first", "latest", "target", "personal best"], rows)
    return 0


def delete(args: argparse.Namespace) -> int:
    removed = _index(args).delete(args.session)
    print(f"deleted {', '.join(p.name for p in removed)}")
    return 0

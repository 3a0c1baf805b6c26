"""FaceZones on files: ``python cli.py annotate IMAGE --json OUT.json [--out OUT.png] [--mirror] [plan…]``.

Subcommands: ``annotate`` (a photo), ``annotate-video`` (a clip), ``chart`` (a printable chart of a plan).
A bad input exits non-zero with a one-line message; a photo with no face exits 0 with ``"faces": []``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2

from overlays.chart import save_chart
from pipeline import OverlayOptions, Pipeline, Settings, StreamProcessor, catalogue_for
from vision.assets import AssetError
from vision.hands import HandDetector
from vision.io import ImageError, read_image
from vision.landmarker import FaceDetector, LandmarkerOptions
from vision.video import annotate_video, terminal_progress
from zones.catalogue import CatalogueError
from zones.plan import Plan, PlanError, build_plan

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


def _plan(args: argparse.Namespace) -> Plan:
    """The plan from ``--plan FILE`` and/or ``--treat``; ``--today``, ``--method`` and ``--margin`` win."""
    return build_plan(args.treat, method=args.method, today=args.today, plan_path=args.plan,
                      margin_mm=args.margin)


def _settings(args: argparse.Namespace, *, still: bool = True) -> Settings:
    catalogue_for(args.catalogue)  # a malformed catalogue fails here, with file, entry and field named
    overlay = OverlayOptions(guide=not still, hud=not still)  # no frozen guide dot or fps on a still
    return Settings(plan=_plan(args), catalogue_path=args.catalogue, mirror=getattr(args, "mirror", False),
                    overlay=overlay)


def _write_json(path: str, document: dict[str, Any]) -> None:
    """Write atomically: a crash never leaves half a file where a good one was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=target.parent, suffix=".tmp", delete=False) as handle:
        json.dump(document, handle)
    os.replace(handle.name, target)


def _write_image(path: str, image_bgr: Any) -> None:
    """Encode with OpenCV from pixels only: no EXIF or other metadata of the input is carried over."""
    suffix = Path(path).suffix.lower() or ".png"
    ok, encoded = cv2.imencode(suffix, image_bgr)
    if not ok:
        raise CliError(f"cannot write {path}: use .png or .jpg")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(encoded.tobytes())


def annotate(args: argparse.Namespace) -> int:
    if not args.json and not args.out:
        raise CliError("say where to write: --json OUT.json and/or --out OUT.png")
    image = read_image(args.image)
    pipeline = Pipeline(_settings(args))
    with FaceDetector(LandmarkerOptions(max_faces=args.max_faces)) as detector:
        faces = detector.detect(image, color="bgr")
    hands = None
    if not args.no_hands:
        with HandDetector() as hand_detector:
            hands = hand_detector.detect(image, color="bgr")
    shown, result = pipeline.process(image, faces, hands)
    if args.json:
        height, width = shown.shape[:2]
        _write_json(args.json, {
            "image": {"width": width, "height": height, "mirrored": args.mirror},
            "plan": pipeline.settings.plan.to_json(include_today=True),
            "faces": pipeline.report(result),
            "touches": result.touch.as_json() if result.touch is not None else [],
        })
    if args.out:
        _write_image(args.out, pipeline.render(shown, result))
    print(f"{args.image}: {len(faces)} face(s)", file=sys.stderr)
    return 0


def annotate_video_command(args: argparse.Namespace) -> int:
    settings = replace(_settings(args, still=False), touch_guard=not args.no_hands)
    Pipeline(settings)  # refuse a bad plan before any frame is decoded
    with StreamProcessor(LandmarkerOptions(max_faces=args.max_faces)) as stream:
        summary = annotate_video(args.video, args.out, lambda frame, ms: stream(frame, ms, settings)[0],
                                 terminal_progress(sys.stderr))
    print(f"{args.video}: {summary.frames} frames -> {summary.path}", file=sys.stderr)
    return 0


def chart(args: argparse.Namespace) -> int:
    pipeline = Pipeline(_settings(args))  # refuses a plan the catalogue cannot use
    print(f"chart: {save_chart(pipeline.chart(), args.out)}", file=sys.stderr)
    return 0


def _add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--treat", action="append", default=[], metavar="AREA[,AREA…]=PRODUCT@YYYY-MM-DD",
                        help="a treatment (repeatable), e.g. nasolabial_left=ha_filler@2026-11-20")
    parser.add_argument("--method", choices=None, help="hands, tools or microcurrent (default: hands)")
    parser.add_argument("--today", help="the day to evaluate, YYYY-MM-DD[THH:MM] (default: now)")
    parser.add_argument("--margin", type=float, help="no-touch margin in mm (default: the rule's)")
    parser.add_argument("--catalogue", help="another catalogue file (default: zones/catalogue.yaml)")
    parser.add_argument("--plan", help="a plan JSON file saved by the app or the CLI")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    one = commands.add_parser("annotate", help="landmarks, zones and strokes of a photo as JSON and/or PNG")
    one.add_argument("image")
    one.add_argument("--json", help="write the analysis here")
    one.add_argument("--out", help="write the annotated image here (.png or .jpg)")
    one.add_argument("--mirror", action="store_true", help="selfie view: flip left-right, ids stay true")
    one.add_argument("--max-faces", type=int, default=4)
    one.add_argument("--no-hands", action="store_true", help="skip the touch guard's hand detection")
    _add_plan_options(one)
    one.set_defaults(run=annotate)

    video = commands.add_parser("annotate-video", help="the overlay on every frame of a clip, as H.264 MP4")
    video.add_argument("video")
    video.add_argument("--out", required=True, help="write the annotated clip here (.mp4)")
    video.add_argument("--mirror", action="store_true", help="selfie view: flip left-right, ids stay true")
    video.add_argument("--max-faces", type=int, default=1)
    video.add_argument("--no-hands", action="store_true", help="skip the touch guard's hand tracking")
    _add_plan_options(video)
    video.set_defaults(run=annotate_video_command)

    sheet = commands.add_parser("chart", help="a printable face chart of a plan (PNG or PDF)")
    sheet.add_argument("--out", required=True, help="write the chart here (.png or .pdf)")
    _add_plan_options(sheet)
    sheet.set_defaults(run=chart)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (CliError, ImageError, PlanError, CatalogueError, AssetError, OSError, ValueError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())

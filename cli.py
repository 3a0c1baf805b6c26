"""FaceZones on files: ``python cli.py annotate IMAGE… --json OUT.json [--out OUT.png] [--mirror] [plan…]``.

Subcommands: ``annotate`` (photos: files, folders, globs), ``annotate-video`` (a clip), ``chart`` (a printable
chart of a plan). A bad input exits 2 with a one-line message; ``annotate`` over several photos names each bad
file on a line of its own, goes on with the rest and exits 2 when any was refused. A photo with no face exits
0 with ``"faces": []``. The analysis JSON follows ``schemas/analysis.schema.json``.
Photos: every face is found by the full-range detector and landmarked from its crop; the plan applies to one
face (``--face N``, index into ``faces``, largest first; default the largest), the others get "no plan".
``"notes"`` says what was not found or is not drawn (no face, a face too small or turned, a map that does
not fit, areas out of sight).
On the store (``--db URL``, else ``FACEZONES_DB``, else the user's data folder): ``person add|list|delete``,
``treat``, ``done``, ``course``, ``history``, ``export``, ``import``; ``annotate --person NAME`` takes that
person's stored treatments as the plan.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import cv2

from overlays.chart import save_chart
from pipeline import OverlayOptions, Pipeline, Settings, StreamProcessor, catalogue_for
from store import DEFAULT_PERSON, Store, StoreError, read_document, write_document
from store.history import person_history
from vision.assets import AssetError
from vision.finder import FaceFinder, FinderOptions
from vision.hands import HandDetector
from vision.io import ImageError, read_image
from vision.landmarker import LandmarkerOptions
from vision.video import annotate_video, terminal_progress
from zones.catalogue import CatalogueError
from zones.plan import Plan, PlanError, build_plan, moment_of, parse_moment, parse_today, parse_treatment
from zones.report import SCHEMA_VERSION, guidance_report

EXIT_BAD_INPUT = 2
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


def _plan(args: argparse.Namespace) -> Plan:
    """The plan from ``--plan FILE`` (or ``--person NAME``: that person's stored treatments and settings)
    and/or ``--treat``; ``--today``, ``--method``, ``--margin``, ``--caution-band`` and ``--screen`` win;
    ``--injector-wait`` goes to the latest treatment of its area."""
    stored = None
    if args.person:
        if args.plan:
            raise CliError("--person and --plan both give a plan: use one of them")
        with Store(args.db) as store:
            stored = store.plan(args.person, parse_today(args.today), method=args.method)
    return build_plan(
        args.treat,
        method=args.method,
        today=args.today,
        plan_path=args.plan,
        margin_mm=args.margin,
        caution_band_mm=args.caution_band,
        screen=args.screen,
        injector_waits=args.injector_wait,
        base=stored,
    )


def _settings(args: argparse.Namespace, *, still: bool = True) -> Settings:
    catalogue_for(args.catalogue)  # a malformed catalogue fails here, with file, entry and field named
    overlay = OverlayOptions(guide=not still)  # no frozen guide dot on a still; its HUD holds only the notes
    return Settings(
        plan=_plan(args),
        catalogue_path=args.catalogue,
        mirror=getattr(args, "mirror", False),
        overlay=overlay,
        face=getattr(args, "face", None),
    )


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


@dataclass(frozen=True)
class Inputs:
    """The photos ``annotate`` was given, expanded from files, folders and globs, and what could not be."""

    paths: tuple[Path, ...]
    problems: tuple[str, ...]  # one line each: a glob matching nothing, an empty folder
    several: bool  # a folder, a glob or more than one name: write per-image files


def expand_inputs(names: Sequence[str]) -> Inputs:
    """Files as given, a folder's photos (by suffix, sorted, not recursive), a glob's matches (sorted; ``**``
    recurses); a name may repeat a file only once."""
    paths: list[Path] = []
    problems: list[str] = []
    several = len(names) > 1
    for name in names:
        path = Path(name)
        if path.is_dir():
            several = True
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not found:
                problems.append(f"{name}: no photo in this folder ({', '.join(IMAGE_SUFFIXES)})")
            paths += found
        elif glob.has_magic(name) and not path.exists():
            several = True
            matches = sorted(Path(m) for m in glob.glob(name, recursive=True) if Path(m).is_file())
            if not matches:
                problems.append(f"{name}: no file matches")
            paths += matches
        else:
            paths.append(path)
    unique = tuple(dict.fromkeys(p.resolve() for p in paths))
    return Inputs(
        tuple(Path(os.path.relpath(p)) if p.is_relative_to(Path.cwd()) else p for p in unique),
        tuple(problems),
        several,
    )


def _output_names(paths: Sequence[Path]) -> list[str]:
    """One output stem per input, unique even when two folders hold a file of the same name."""
    stems: list[str] = []
    for path in paths:
        stem, n = path.stem, 2
        while stem in stems:
            stem, n = f"{path.stem}-{n}", n + 1
        stems.append(stem)
    return stems


def analysis_document(
    image_path: Path, shown: Any, pipeline: Pipeline, data: Any, mirrored: bool, notes: Sequence[str]
) -> dict[str, Any]:
    """The analysis JSON of one photo (``schemas/analysis.schema.json``): the fields of schema version 1."""
    height, width = shown.shape[:2]
    return {
        "schema_version": SCHEMA_VERSION,
        "input": str(image_path),
        "image": {"width": width, "height": height, "mirrored": mirrored},
        "plan": pipeline.settings.plan.to_json(include_today=True),
        **guidance_report(data.safety),
        "faces": pipeline.report(data),
        "touches": data.touch.as_json() if data.touch is not None else [],
        "notes": list(notes),
        "hidden_areas": list(data.hidden_areas),
        **pipeline.labels(data),
    }


@contextmanager
def _jsonl_stream(target: str | None) -> Iterator[IO[str] | None]:
    if target is None:
        yield None
    elif target == "-":
        yield sys.stdout
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8") as stream:
            yield stream


def annotate(args: argparse.Namespace) -> int:
    if not args.json and not args.out and not args.jsonl:
        raise CliError("say where to write: --json OUT.json, --jsonl OUT.jsonl and/or --out OUT.png")
    inputs = expand_inputs(args.images)
    if inputs.several:
        for option, value in (("--json", args.json), ("--out", args.out)):
            if value and Path(value).suffix and not Path(value).is_dir():
                raise CliError(
                    f"{option} {value}: with several photos, name a folder (one file per photo)"
                    + (" or use --jsonl" if option == "--json" else "")
                )
    if args.max_faces < 1:
        raise CliError(f"--max-faces must be at least 1, got {args.max_faces}")
    if args.face is not None and args.face < 0:
        raise CliError(f"--face must be 0 or more (0 is the largest face), got {args.face}")
    pipeline = Pipeline(_settings(args))  # a bad plan or catalogue stops here, before any photo
    for problem in inputs.problems:
        print(f"error: {problem}", file=sys.stderr)
    refused = len(inputs.problems)
    stems = _output_names(inputs.paths)
    with ExitStack() as models, _jsonl_stream(args.jsonl) as stream:
        finder: FaceFinder | None = None
        hand_detector: HandDetector | None = None
        for path, stem in zip(inputs.paths, stems, strict=True):
            try:
                image = read_image(path)
            except (ImageError, OSError) as err:
                message = str(err).splitlines()[0] if str(err) else type(err).__name__
                named = str(path) in message or path.name in message
                print(f"error: {message}" if named else f"error: {path}: {message}", file=sys.stderr)
                refused += 1
                continue
            if finder is None:  # the models start with the first readable photo
                finder = models.enter_context(FaceFinder(FinderOptions(max_faces=args.max_faces)))
                hand_detector = None if args.no_hands else models.enter_context(HandDetector())
            found = finder.find(image, color="bgr")
            faces = found.faces
            hands = hand_detector.detect(image, color="bgr") if hand_detector is not None else None
            shown, data = pipeline.process(image, faces, hands)
            notes = [*data.notes, *_unmapped_note(len(found.unmapped))]
            document = analysis_document(path, shown, pipeline, data, args.mirror, notes)
            if args.json:
                _write_json(str(Path(args.json) / f"{stem}.json") if inputs.several else args.json, document)
            if stream is not None:
                stream.write(json.dumps(document) + "\n")
                stream.flush()
            if args.out:
                _write_image(
                    str(Path(args.out) / f"{stem}.png") if inputs.several else args.out,
                    pipeline.render(shown, data),
                )
            withheld = " (guidance withheld)" if data.safety.withheld else ""
            print(f"{path}: {len(faces)} face(s){withheld}", file=sys.stderr)
            for note in notes:
                print(f"  {note}", file=sys.stderr)
    if not inputs.paths and not inputs.problems:
        print("error: no photo given", file=sys.stderr)
        refused += 1
    return EXIT_BAD_INPUT if refused else 0


def _unmapped_note(count: int) -> list[str]:
    """A face the detector saw but the landmarker could not map is said, not dropped in silence."""
    if not count:
        return []
    return [f"{count} more face{'s' if count > 1 else ''} seen but not mapped (too small, blurred or turned)"]


def annotate_video_command(args: argparse.Namespace) -> int:
    settings = replace(_settings(args, still=False), touch_guard=not args.no_hands)
    Pipeline(settings)  # refuse a bad plan before any frame is decoded
    with StreamProcessor(LandmarkerOptions(max_faces=args.max_faces)) as stream:
        summary = annotate_video(
            args.video,
            args.out,
            lambda frame, ms: stream(frame, ms, settings)[0],
            terminal_progress(sys.stderr),
        )
    print(f"{args.video}: {summary.frames} frames -> {summary.path}", file=sys.stderr)
    return 0


def chart(args: argparse.Namespace) -> int:
    pipeline = Pipeline(_settings(args))  # refuses a plan the catalogue cannot use
    print(f"chart: {save_chart(pipeline.chart(), args.out)}", file=sys.stderr)
    return 0


# --- the store ----------------------------------------------------------------------------------------------


def _emit(args: argparse.Namespace, document: dict[str, Any]) -> None:
    """Write the command's JSON document where ``--json`` says (``-``: standard output)."""
    if not getattr(args, "json", None):
        return
    if args.json == "-":
        json.dump(document, sys.stdout, indent=2)
        print()
    else:
        _write_json(args.json, document)


def _known_person(store: Store, name: str) -> str:
    """The person's name; the default "me" is added on first use, anyone else must be added first."""
    return store.ensure_person(name).name if name == DEFAULT_PERSON else store.person(name).name


def person_command(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        if args.action == "add":
            person = store.add_person(args.name)
            print(f"added {person.name!r} to {store.where}", file=sys.stderr)
            document: dict[str, Any] = {"added": person.name}
        elif args.action == "delete":
            rows = store.delete_person(args.name)
            print(f"deleted {args.name!r} and all their records ({rows} rows)", file=sys.stderr)
            document = {"deleted": args.name, "rows": rows}
        else:
            people = store.people()
            for person in people:
                print(person.name)
            document = {"people": [{"name": p.name, "created_at": p.created_at.isoformat()} for p in people]}
    _emit(args, document)
    return 0


def _injector_waits(items: Sequence[str]) -> dict[str, str]:
    waits = {}
    for item in items:
        area, sep, wait = item.partition("=")
        if not sep or not area.strip() or not wait.strip():
            raise CliError(f"--injector-wait {item!r}: expected AREA=DURATION, e.g. lips=10d")
        waits[area.strip()] = wait.strip()
    return waits


def treat_command(args: argparse.Namespace) -> int:
    if not args.treat:
        raise CliError("say what was treated: --treat AREA[,AREA…]=PRODUCT@YYYY-MM-DD")
    catalogue = catalogue_for(args.catalogue)
    today = parse_today(args.today)
    treatments = [replace(parse_treatment(text), planned=args.planned) for text in args.treat]
    waits = _injector_waits(args.injector_wait)
    stray = sorted(set(waits) - {a for t in treatments for a in t.areas})
    if stray:
        raise CliError(f"--injector-wait for {', '.join(stray)}, which no --treat names")
    added = []
    with Store(args.db) as store:
        name = _known_person(store, args.person)
        for treatment in treatments:
            mine = {area: wait for area, wait in waits.items() if area in treatment.areas}
            record = store.add_treatment(name, treatment, injector_waits=mine, note=args.note,
                                         catalogue=catalogue, today=today)  # fmt: skip
            added.append(record.key)
            state = "planned" if treatment.planned else "done"
            print(f"{name}: treatment {record.key} {treatment.to_text()} ({state})", file=sys.stderr)
        history = person_history(store, name, catalogue, today)
    courses = [c for c in history.to_json()["courses"] if c["treatment_id"] in added]
    for course in courses:
        days = ", ".join(s["due"] for s in course["sessions"])
        print(f"preparatory course: {course['total']} sessions ({days}); {course['message']}",
              file=sys.stderr)  # fmt: skip
    _emit(args, {"person": name, "added": added, "courses": courses})
    return 0


def done_command(args: argparse.Namespace) -> int:
    when = parse_moment(args.on, "--on")[0] if args.on else None
    with Store(args.db) as store:
        record = store.mark_done(args.person, args.treatment, when, now=moment_of(parse_today(args.today)))
    print(f"{args.person}: treatment {record.key} {record.treatment.to_text()} done; its course is closed",
          file=sys.stderr)  # fmt: skip
    _emit(args, {"person": args.person, "done": record.key, "date": record.treatment.when_text})
    return 0


def course_command(args: argparse.Namespace) -> int:
    catalogue = catalogue_for(args.catalogue)
    today = parse_today(args.today)
    with Store(args.db) as store:
        name = _known_person(store, args.person)
        if args.tick is not None or args.untick is not None:
            history = person_history(store, name, catalogue, today)
            running = history.open_course
            if running is None:
                raise CliError(f"{name} has no open course to tick")
            number = args.tick if args.tick is not None else args.untick
            chosen = [s for s in running[0].course.sessions if s.number == number]
            if not chosen or chosen[0].key is None:
                raise CliError(f"the open course has no session {number}")
            store.tick_course_session(name, chosen[0].key, done=args.tick is not None, when=moment_of(today))
        history = person_history(store, name, catalogue, today)
    courses = history.to_json()["courses"]
    if not courses:
        print(f"{name}: no preparatory course (plan a filler treatment with treat --planned)",
              file=sys.stderr)  # fmt: skip
    for course in courses:
        print(f"course for the treatment on {course['treatment_day']}: {course['message']}", file=sys.stderr)
        for item in course["sessions"]:
            mark = "x" if item["done"] else " "
            print(f"  [{mark}] {item['number']}. {item['due']}  {', '.join(item['areas'])}", file=sys.stderr)
    _emit(args, {"person": name, "today": history.today.isoformat(timespec="minutes"), "courses": courses})
    return 0


def history_command(args: argparse.Namespace) -> int:
    catalogue = catalogue_for(args.catalogue)
    with Store(args.db) as store:
        history = person_history(store, _known_person(store, args.person), catalogue, parse_today(args.today),
                                 method=args.method)  # fmt: skip
    document = history.to_json()
    print(f"{history.name}: {len(history.treatments)} treatment(s), {len(history.sessions)} session(s). "
          f"{history.today_text()}", file=sys.stderr)  # fmt: skip
    _emit(args, document)
    return 0


def export_command(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        document = store.export_person(args.person)
    path = write_document(document, args.out)
    print(f"{args.person}: exported to {path}", file=sys.stderr)
    return 0


def import_command(args: argparse.Namespace) -> int:
    document = read_document(args.file)
    with Store(args.db) as store:
        person = store.import_person(document, as_name=args.as_name)
    print(f"imported {person.name!r} from {args.file}", file=sys.stderr)
    _emit(args, {"imported": person.name})
    return 0


def _add_store_options(parser: argparse.ArgumentParser, *, person: bool = True, output: bool = True) -> None:
    parser.add_argument("--db", help="database URL or SQLite file (default: $FACEZONES_DB, else the user's "
                        "data folder)")  # fmt: skip
    if person:
        parser.add_argument("--person", default=DEFAULT_PERSON,
                            help=f"whose records (default: {DEFAULT_PERSON})")  # fmt: skip
    if output:
        parser.add_argument("--json", help="also write the result as JSON here (- for standard output)")


def _add_store_commands(commands: Any) -> None:
    people = commands.add_parser("person", help="add, list or delete the people in the store")
    actions = people.add_subparsers(dest="action", required=True)
    for action, text in (("add", "add a person"), ("delete", "delete a person and every record of theirs")):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("name")
        _add_store_options(sub, person=False)
    _add_store_options(actions.add_parser("list", help="list the people"), person=False)
    people.set_defaults(run=person_command)

    treat = commands.add_parser("treat", help="record a treatment, done or planned (a planned filler gets "
                                "its preparatory course)")  # fmt: skip
    treat.add_argument("--treat", action="append", default=[], metavar="AREA[,AREA…]=PRODUCT@YYYY-MM-DD",
                       help="a treatment (repeatable)")  # fmt: skip
    treat.add_argument("--planned", action="store_true", help="booked for that day, not done yet")
    treat.add_argument("--injector-wait", action="append", default=[], metavar="AREA=DURATION",
                       help="the wait the injector gave for an area, e.g. lips=10d (repeatable)")  # fmt: skip
    treat.add_argument("--note", default="", help="a note kept with the treatment")
    treat.add_argument("--today", help="the day it is, YYYY-MM-DD[THH:MM] (default: now)")
    treat.add_argument("--catalogue", help="another catalogue file (default: zones/catalogue.yaml)")
    _add_store_options(treat)
    treat.set_defaults(run=treat_command)

    done = commands.add_parser("done", help="a planned treatment was done: waits start, its course closes")
    done.add_argument("treatment", type=int, help="the treatment's number (see history)")
    done.add_argument("--on", help="when it was done, YYYY-MM-DD[THH:MM] (default: the booked moment)")
    done.add_argument("--today", help="the day it is, YYYY-MM-DD[THH:MM] (default: now)")
    _add_store_options(done)
    done.set_defaults(run=done_command)

    course = commands.add_parser("course", help="the preparatory course: sessions, dates, areas, done or not")
    course.add_argument("--tick", type=int, metavar="N", help="tick session N of the open course off by hand")
    course.add_argument("--untick", type=int, metavar="N", help="untick session N of the open course")
    course.add_argument("--today", help="the day to read it on, YYYY-MM-DD (default: now)")
    course.add_argument("--catalogue", help="another catalogue file (default: zones/catalogue.yaml)")
    _add_store_options(course)
    course.set_defaults(run=course_command)

    history = commands.add_parser("history", help="treatments, course, sessions and safe-again dates")
    history.add_argument("--today", help="the day to read it on, YYYY-MM-DD[THH:MM] (default: now)")
    history.add_argument("--method", help="hands, tools or microcurrent (default: the person's saved one)")
    history.add_argument("--catalogue", help="another catalogue file (default: zones/catalogue.yaml)")
    _add_store_options(history)
    history.set_defaults(run=history_command)

    export = commands.add_parser("export", help="one person's records as JSON, or CSV when OUT ends in .csv")
    export.add_argument("--out", required=True, help="the file to write (.json or .csv)")
    _add_store_options(export, output=False)
    export.set_defaults(run=export_command)

    load = commands.add_parser("import", help="add a person from an export file (JSON or CSV)")
    load.add_argument("file")
    load.add_argument("--as", dest="as_name", help="import under another name")
    _add_store_options(load, person=False)
    load.set_defaults(run=import_command)


def _add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--treat",
        action="append",
        default=[],
        metavar="AREA[,AREA…]=PRODUCT@YYYY-MM-DD",
        help="a treatment (repeatable), e.g. nasolabial_left=ha_filler@2026-11-20",
    )
    parser.add_argument("--method", choices=None, help="hands, tools or microcurrent (default: hands)")
    parser.add_argument("--today", help="the day to evaluate, YYYY-MM-DD[THH:MM] (default: now)")
    parser.add_argument(
        "--margin",
        type=float,
        metavar="MM",
        help="no-touch margin in mm around treated areas (default: the rule's)",
    )
    parser.add_argument(
        "--caution-band",
        type=float,
        metavar="MM",
        help="width in mm of the caution band outside the margin (default: the rule's)",
    )
    parser.add_argument(
        "--screen",
        action="append",
        default=[],
        metavar="ID=yes|no",
        help="a screening answer (repeatable; ids from the catalogue: heart, vessels, lymph, "
        "skin); any yes withholds guidance",
    )
    parser.add_argument(
        "--injector-wait",
        action="append",
        default=[],
        metavar="AREA=DURATION",
        help="the wait your injector gave for an area, e.g. lips=2d or lips=36h "
        "(repeatable); it wins over the catalogue",
    )
    parser.add_argument("--catalogue", help="another catalogue file (default: zones/catalogue.yaml)")
    parser.add_argument("--plan", help="a plan JSON file saved by the app or the CLI")
    parser.add_argument("--person", help="use this person's stored treatments and settings as the plan")
    parser.add_argument("--db", help="the store for --person (default: $FACEZONES_DB, else the data folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    one = commands.add_parser("annotate", help="landmarks, zones and strokes of photos as JSON and/or PNG")
    one.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="photos: files, folders (their photos) and globs such as 'shots/*.jpg'",
    )
    one.add_argument("--json", help="write the analysis here (several photos: a folder, NAME.json each)")
    one.add_argument("--jsonl", help="write one analysis per line to this JSON Lines file ('-': stdout)")
    one.add_argument("--out", help="write the annotated image here, .png or .jpg (several: a folder)")
    one.add_argument("--mirror", action="store_true", help="selfie view: flip left-right, ids stay true")
    one.add_argument("--max-faces", type=int, default=8, help="faces landmarked at most, largest first")
    one.add_argument("--face", type=int, help="the face the plan applies to (0: the largest, the default)")
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
    _add_store_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (CliError, ImageError, PlanError, CatalogueError, AssetError, StoreError, OSError,
            ValueError) as err:  # fmt: skip
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())

"""A printable face chart: the plan drawn on a neutral frontal face, for a practitioner to hand out.

The face is MediaPipe's canonical face mesh (``overlays.template``), so the chart looks the same for everyone
and needs no photo. Areas carry their status colours and safe-from dates, massage lines their arrows and
step numbers and footnote marks; a footer lists the colour key, the steps in session order, the sources the
verdicts cite (numbered footnotes) and the "not medical advice" note.
Exported as PNG (no metadata) or PDF. The template face goes through the same chain as a camera frame: the
caller passes its ``analyse`` (``pipeline.Pipeline.chart`` does), so the chart cannot drift from the live
view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from mediapipe.tasks.python.vision import FaceLandmarksConnections
from PIL import Image, ImageDraw, ImageFont

from overlays.areas import ZoneAnnotator
from overlays.labels import short_label
from overlays.layout import place_labels
from overlays.legend import when_text
from overlays.scene import SceneData
from overlays.sprites import badge_sprite, font, paste, text_sprite
from overlays.strokes import StrokeAnnotator
from overlays.style import CAUTION_AMBER, NO_TOUCH_RED, SAFE_GREEN, SUBPIXEL_SHIFT, to_fixed
from overlays.template import template_faces
from vision.faces import Faces
from zones.catalogue import Catalogue
from zones.evidence import Footnotes, footnotes
from zones.geometry import FACE_OVAL
from zones.plan import Plan
from zones.safety import CAUTION, NO_TOUCH, Verdict
from zones.wording import DISCLAIMER, format_day

A4_PORTRAIT = (1240, 1754)  # 150 dpi
PAPER = (250, 250, 248)
INK = (40, 40, 40)
SKIN = (214, 226, 238)
FEATURES = (150, 160, 175)
TEXT_COLORS = {NO_TOUCH: (30, 30, 180), CAUTION: (0, 110, 190)}
_FEATURE_SETS = (
    FaceLandmarksConnections.FACE_LANDMARKS_LEFT_EYE,
    FaceLandmarksConnections.FACE_LANDMARKS_RIGHT_EYE,
    FaceLandmarksConnections.FACE_LANDMARKS_LEFT_EYEBROW,
    FaceLandmarksConnections.FACE_LANDMARKS_RIGHT_EYEBROW,
    FaceLandmarksConnections.FACE_LANDMARKS_LIPS,
    FaceLandmarksConnections.FACE_LANDMARKS_NOSE,
)
FEATURE_EDGES = np.array([(c.start, c.end) for group in _FEATURE_SETS for c in group], np.intp)
FACE_OUTLINE = np.array(FACE_OVAL, np.intp)


Analyse = Callable[[Faces], SceneData]
"""Faces in frame pixels -> the frame's record (``pipeline.Pipeline.analyse``)."""


def chart_scene(analyse: Analyse, box: tuple[int, int, int, int], canvas: tuple[int, int]) -> SceneData:
    """The plan on the template face, scaled so face and neck strokes fill ``box`` (x0 y0 x1 y1)."""
    probe = analyse(template_faces(1000, 1000))
    x0, y0, x1, y1 = probe.geometry.boxes[0]
    scale = min((box[2] - box[0]) * 0.62 / (x1 - x0), (box[3] - box[1]) * 0.94 / (y1 - y0))
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], np.float32)
    faces = probe.faces
    landmarks = faces.landmarks.copy()
    landmarks[..., :2] = (
        landmarks[..., :2] - np.array([(x0 + x1) / 2, (y0 + y1) / 2], np.float32)
    ) * scale + centre
    landmarks[..., 2] *= scale
    moved = replace(
        faces,
        landmarks=landmarks,
        image_size=canvas,
        boxes=np.concatenate([landmarks[0, :, :2].min(0), landmarks[0, :, :2].max(0)])[None],
    )
    return analyse(moved)


def _draw_face(image: np.ndarray, scene: SceneData) -> None:
    """A soft silhouette: neck, face oval in a neutral skin tone, then eyes, brows, lips and nose lines."""
    landmarks = scene.faces.landmarks[0, :, :2]
    index = scene.geometry.index
    neck_lines = [i for i, line_id in enumerate(index.line_ids) if line_id.startswith("neck")]
    if neck_lines:
        ends = scene.geometry.line_points[0, index.line_offsets[np.array(neck_lines) + 1] - 1]
        jaw = landmarks[[172, 397]]
        left, right = ends[:, 0].min(), ends[:, 0].max()
        bottom = ends[:, 1].max() + 0.08 * (right - left)
        neck = np.array(
            [jaw[0], jaw[1], [right + 0.15 * (right - left), bottom], [left - 0.15 * (right - left), bottom]],
            np.float32,
        )
        cv2.fillPoly(image, [to_fixed(neck)], SKIN, cv2.LINE_AA, SUBPIXEL_SHIFT)
    cv2.fillPoly(image, [to_fixed(landmarks[FACE_OUTLINE])], SKIN, cv2.LINE_AA, SUBPIXEL_SHIFT)
    cv2.polylines(image, [to_fixed(landmarks[FACE_OUTLINE])], True, FEATURES, 2, cv2.LINE_AA, SUBPIXEL_SHIFT)
    cv2.polylines(image, to_fixed(landmarks[FEATURE_EDGES]), False, FEATURES, 2, cv2.LINE_AA, SUBPIXEL_SHIFT)  # type: ignore[call-overload]


def footnote_mark(area_id: str, notes: Footnotes) -> str:
    """`` [1,3]`` after an area's status: the footnotes its verdict cites (`` [injector]`` when theirs)."""
    if area_id in notes.injector:
        return " [injector]"
    marks = notes.marks.get(area_id, ())
    return f" [{','.join(map(str, sorted(marks)))}]" if marks else ""


def _labels(image: np.ndarray, scene: SceneData, size_px: int, notes: Footnotes) -> None:
    """A status line per area that is not safe (with its footnote marks), then a step badge at each line's
    start, without overlaps."""
    geometry, safety = scene.geometry, scene.safety
    index = geometry.index
    sprites, anchors = [], []
    centres = np.add.reduceat(geometry.area_points[0], geometry.area_offsets[:-1], axis=0)
    centres /= np.diff(geometry.area_offsets)[:, None]
    order = np.argsort(-np.asarray(safety.area_status).astype(int), kind="stable")
    for a in order:
        verdict = safety.verdicts[a]
        if verdict.status not in (NO_TOUCH, CAUTION):
            continue
        sprites.append(
            text_sprite(
                area_status_text(index.area_labels[a], verdict, safety.plan.moment)
                + footnote_mark(index.area_ids[a], notes),
                size_px,
                TEXT_COLORS[verdict.status],
                PAPER,
            )
        )
        anchors.append(centres[a])
    starts = geometry.line_points[0, index.line_offsets[:-1]]
    _, distinct = np.unique(np.c_[index.line_steps, np.rint(starts)], axis=0, return_index=True)
    for line in np.sort(distinct):  # left and right lines of a step may share their first point
        sprites.append(badge_sprite(str(int(index.line_steps[line])), size_px, SAFE_GREEN))
        anchors.append(starts[line])
    sizes = np.array([(s.width + 4, s.height + 4) for s in sprites], np.float32)
    corners, _ = place_labels(np.array(anchors), sizes, (image.shape[1], image.shape[0]))
    for sprite, (x, y) in zip(sprites, corners, strict=True):
        if x >= 0:
            paste(image, sprite, int(x), int(y))


def area_status_text(label: str, verdict: Verdict, now: datetime) -> str:
    """``"Lips: safe from Fri 4 Dec (in 12 d)"``, ``"Temple (R): light pressure"``, ... for the chart."""
    name = short_label(label)
    if verdict.status == NO_TOUCH and verdict.safe_from is not None:
        return f"{name}: safe from {when_text(verdict.safe_from, now)}"
    if verdict.rule is not None and verdict.caution_until is not None:
        return f"{name}: gently until {format_day(verdict.caution_until)}"
    return f"{name}: light pressure"


def _text_block(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    size_px: int,
    width: int,
    fill: tuple[int, int, int] = INK,
) -> int:
    """Word-wrapped text within ``width`` px; returns the y below it."""
    face = font(size_px)
    x, y = xy
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if face.getlength(trial) > width and line:
            draw.text((x, y), line, font=face, fill=fill[::-1])
            y += round(size_px * 1.3)
            line = word
        else:
            line = trial
    if line:
        draw.text((x, y), line, font=face, fill=fill[::-1])
        y += round(size_px * 1.3)
    return y


def _header_and_footer(
    image: np.ndarray, catalogue: Catalogue, plan: Plan, face_bottom: int, notes: Footnotes
) -> np.ndarray:
    """Title, plan line, subject-side markers, colour key, steps in session order, the sources as numbered
    footnotes (as many as the page holds; the rest are counted) and the disclaimer."""
    canvas = Image.fromarray(image[:, :, ::-1])
    draw = ImageDraw.Draw(canvas)
    width = canvas.width
    margin = round(width * 0.05)
    size = round(width / 52)
    draw.text((margin, margin * 0.6), "Face massage chart", font=font(round(size * 2.0)), fill=INK[::-1])
    methods = {m.id: m.label for m in catalogue.methods}
    products = {p.id: p.label for p in catalogue.products}
    labels = {a.id: short_label(a.label) for a in catalogue.areas}
    moment = plan.moment
    subtitle = f"For {format_day(moment)} · method: {methods.get(plan.method, plan.method)}"
    y = _text_block(draw, (margin, round(margin * 0.6 + size * 2.6)), subtitle, size, width - 2 * margin)
    for treatment in plan.treatments:
        treated = ", ".join(labels.get(a, a) for a in treatment.areas)
        y = _text_block(
            draw,
            (margin, y),
            f"Treated {format_day(treatment.treated_at)}: {treated} "
            f"({products.get(treatment.product, treatment.product)})",
            round(size * 0.85),
            width - 2 * margin,
            (90, 90, 90),
        )
    side = round(size * 0.8)
    draw.text((margin, face_bottom * 0.45), "subject's\nright", font=font(side), fill=(120, 120, 120)[::-1])
    draw.text(
        (width - margin - font(side).getlength("subject's"), face_bottom * 0.45),
        "subject's\nleft",
        font=font(side),
        fill=(120, 120, 120)[::-1],
    )

    y = face_bottom + size
    x = margin
    for color, text in (
        (NO_TOUCH_RED, "No touch (area and margin)"),
        (CAUTION_AMBER, "Caution: light pressure"),
        (SAFE_GREEN, "Stroke direction"),
    ):
        draw.rounded_rectangle((x, y, x + size, y + size), radius=size // 4, fill=color[::-1])
        draw.text((x + size * 1.4, y - size * 0.1), text, font=font(size), fill=INK[::-1])
        x += round(size * 1.4 + font(size).getlength(text) + size * 1.5)
    y += round(size * 2.0)
    draw.text((margin, y), "Order of a session", font=font(round(size * 1.1)), fill=INK[::-1])
    y += round(size * 1.6)
    steps: dict[int, str] = {}
    for line in catalogue.lines:
        steps.setdefault(line.step, line.label.rsplit(" (", 1)[0])
    for phase in catalogue.session:
        detail = "; ".join(f"{s} {steps[s]}" for s in phase.steps if s in steps)
        y = _text_block(draw, (margin, y), f"{phase.label}: {detail}", round(size * 0.85), width - 2 * margin)
    y += round(size * 0.6)
    y = _text_block(draw, (margin, y), DISCLAIMER, round(size * 0.85), width - 2 * margin, (60, 60, 60))
    bottom = canvas.height - margin // 3
    _sources(draw, notes, (margin, y + round(size * 0.4)), width - 2 * margin, bottom, size)
    return np.ascontiguousarray(np.asarray(canvas)[:, :, ::-1])


def _wrap(text: str, face: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> list[str]:
    """Lines of ``text`` within ``width`` px: broken at spaces, and inside a word (an address) longer than a
    line, so nothing runs into the next column and no character is dropped."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if face.getlength(trial) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = ""
        if face.getlength(word) <= width:
            line = word
            continue
        for char in word:
            if face.getlength(line + char) > width and line:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    return lines


def _sources(
    draw: ImageDraw.ImageDraw, notes: Footnotes, xy: tuple[int, int], width: int, bottom: int, size: int
) -> None:
    """The numbered sources under a heading, in two columns down to ``bottom``: ``[n] publisher (grade)
    address``; what does not fit is counted, not cut."""
    entries = [
        f"[{n}] {e.publisher} ({e.grade_text}){' ' + e.address if e.address else ''}"
        for n, e in enumerate(notes.sources, start=1)
    ]
    if notes.injector:
        entries.insert(0, "[injector] the person's own injector's instruction (it wins over the catalogue)")
    if not entries:
        return
    x, y = xy
    small = round(size * 0.55)
    step = round(small * 1.3)
    draw.text(
        (x, y),
        "Sources (full titles and figures: the app's sources view, the CLI's JSON)",
        font=font(round(size * 0.8)),
        fill=INK[::-1],
    )
    top = y + round(size * 1.2)
    column = (width - size) // 2
    placed, cursor = 0, [top, top]
    face = font(small)
    for entry in entries:
        lines = _wrap(entry, face, column)
        side = 0 if cursor[0] + len(lines) * step <= bottom - step else 1
        if cursor[side] + len(lines) * step > bottom - step:
            break
        for line in lines:
            draw.text((x + side * (column + size), cursor[side]), line, font=face, fill=(70, 70, 70)[::-1])
            cursor[side] += step
        placed += 1
    if placed < len(entries):
        rest = len(entries) - placed
        _text_block(
            draw,
            (x, max(cursor)),
            f"… and {rest} more (see the app's sources view)",
            small,
            width,
            (90, 90, 90),
        )


def render_chart(analyse: Analyse, catalogue: Catalogue, size: tuple[int, int] = A4_PORTRAIT) -> np.ndarray:
    """The chart of the plan ``analyse`` evaluates, as a ``(H, W, 3) uint8`` BGR image (A4 portrait at 150 dpi
    by default); ``catalogue`` names its methods, products and session steps."""
    width, height = size
    if width < 400 or height < 560:
        raise ValueError(f"a chart needs at least 400x560 px, got {width}x{height}")
    image = np.full((height, width, 3), PAPER, np.uint8)
    face_box = (0, round(height * 0.13), width, round(height * 0.64))
    scene = chart_scene(analyse, face_box, (width, height))
    _draw_face(image, scene)
    ZoneAnnotator(opacity=0.5, hatch_spacing=12, hatch_thickness=2).annotate(image, scene)
    StrokeAnnotator(halo=False, thickness_mm=1.4).annotate(image, scene)
    notes = footnotes(scene.safety, catalogue)
    _labels(image, scene, max(14, round(width / 62)), notes)
    return _header_and_footer(image, catalogue, scene.safety.plan, face_box[3], notes)


def save_chart(image: np.ndarray, path: str | Path) -> Path:
    """Write the chart as PNG or PDF (by the file's suffix); PNG carries no metadata."""
    target = Path(path)
    suffix = target.suffix.lower()
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        if not cv2.imwrite(str(target), image):
            raise OSError(f"could not write {target}")
    elif suffix == ".pdf":
        Image.fromarray(image[:, :, ::-1]).save(target, "PDF", resolution=150.0)
    else:
        raise ValueError(f"{target.name}: the chart is saved as .png or .pdf")
    return target

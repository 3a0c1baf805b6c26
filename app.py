"""FaceZones in the browser: where massage is safe today after a treatment, drawn on a face.

Streamlit only: widgets, layout and wiring. Every frame (sample, photo, snapshot, replayed clip, live camera)
goes through the one shared chain in ``pipeline.py``; the live callback lives in ``live.py``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, cast

import altair as alt
import cv2
import numpy as np
import pandas as pd
import streamlit as st
from pydantic import ValidationError
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from live import (
    LiveCallback,
    PipelineFrames,
    SettingsBox,
    no_touch_summary,
    prepare_stream_context,
    release_stream_context,
    replay_clip,
    use_live_transport,
)
from overlays.scene import SceneData
from pipeline import OverlayOptions, Settings, catalogue_for, pipeline_for
from store import DEFAULT_PERSON, MassageSession, Store, StoreError, resolve_url
from store.history import History, in_effect_plan, person_history
from vision.assets import SAMPLE_CLIP, AssetError, ensure
from vision.faces import Faces
from vision.finder import FaceFinder
from vision.hands import HandDetector, Hands
from vision.io import ImageError, read_image
from vision.video import VideoError
from zones.catalogue import Catalogue, CatalogueError, Span
from zones.evidence import evidence_rows
from zones.plan import Plan, PlanError, Treatment, demo_plan, plan_from_json
from zones.report import attention_rows
from zones.safety import WARNING_SIGN_REPORTED, evaluate, sources_text, timeline
from zones.wording import DISCLAIMER, TAGLINE, format_day

LOG = logging.getLogger("facezones.app")
ROOT = Path(__file__).resolve().parent
SAMPLES = ROOT / "samples"
STREAM_KEY = "live_stream"
MODES = ("Photos", "Live camera", "Video replay")
PHOTO_SOURCES = ("Samples", "Upload", "Camera snapshot")
CLIP_SOURCES = ("Sample clip", "Upload")
PREVIEW_DAYS = 28
REPLAY_SECONDS = 20.0
MAX_TREATMENTS = 4
RECORD_MESSAGE_S = 10.0  # how long a record action's message outlives the reruns after it


# ---------------------------------------------------------------- shared resources (one per server) ---


@st.cache_resource(show_spinner="Loading the face model…")
def shared_detector() -> tuple[FaceFinder, threading.Lock]:
    """One face finder (detector + IMAGE-mode landmarker) for every session; MediaPipe graphs are not
    thread-safe, hence the lock."""
    return FaceFinder(), threading.Lock()


@st.cache_resource(show_spinner="Loading the hand model…")
def shared_hand_detector() -> tuple[HandDetector, threading.Lock]:
    """One IMAGE-mode hand detector for the touch guard on photos, shared like the face detector."""
    return HandDetector(), threading.Lock()


def session_state() -> MutableMapping[str, Any]:
    """This session's state as the plain mapping ``live.py`` works on (its keys here are all text)."""
    return cast("MutableMapping[str, Any]", st.session_state)


def catalogue_path() -> str | None:
    """A practitioner's own catalogue file from ``$FACEZONES_CATALOGUE``; None: the shipped one."""
    return os.environ.get("FACEZONES_CATALOGUE") or None


def sample_photos() -> dict[str, Path]:
    """The sample gallery from ``samples/manifest.json``: note -> path."""
    manifest = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
    return {f"{item['note']} ({item['file']})": SAMPLES / item["file"] for item in manifest["images"]}


# ---------------------------------------------------------------------------------- the plan widgets ---


def seed_widgets(state: Any, plan: Plan) -> None:
    """Write a plan into the widgets' session state (first run, or a loaded plan)."""
    state["treatment_count"] = len(plan.treatments)
    for i, treatment in enumerate(plan.treatments):
        state[f"t{i}_areas"] = list(treatment.areas)
        state[f"t{i}_product"] = treatment.product
        state[f"t{i}_date"] = treatment.treated_at.date()
        state[f"t{i}_time"] = treatment.treated_at.time() if treatment.has_time else clock_time(12, 0)
    state["method"] = plan.method
    if plan.margin_mm is not None:
        state["margin_mm"] = float(plan.margin_mm)
    if plan.caution_band_mm is not None:
        state["caution_band_mm"] = float(plan.caution_band_mm)
    for i, treatment in enumerate(plan.treatments):
        waits = {wait.code for _, wait in treatment.injector_waits}
        state[f"t{i}_injector"] = waits.pop() if len(waits) == 1 else ""
    for question, answer in plan.screening:
        state[f"screen_{question}"] = "Yes" if answer else "No"


def on_plan_upload() -> None:
    """Load the uploaded plan JSON into the widgets (runs before the script, so widget keys may be set)."""
    upload = st.session_state.get("plan_upload")
    if upload is None:
        return
    try:
        document = json.loads(upload.getvalue().decode("utf-8"))
        plan = plan_from_json(document, where=upload.name)
        plan.check(catalogue_for(catalogue_path()))
        if len(plan.treatments) > MAX_TREATMENTS:
            raise PlanError(f"{upload.name}: at most {MAX_TREATMENTS} treatments fit the sidebar")
    except (UnicodeDecodeError, json.JSONDecodeError):
        st.session_state["plan_message"] = f"{upload.name} is not a plan file (JSON expected)."
        return
    except PlanError as err:
        st.session_state["plan_message"] = str(err)
        return
    seed_widgets(st.session_state, plan)
    st.session_state["plan_message"] = f"Loaded {upload.name}."


LAYERS = {"Guide": "guide", "Labels": "labels", "Legend": "legend", "Status HUD": "hud", "Mesh": "mesh"}


@dataclass(frozen=True)
class Display:
    """The sidebar's view settings: the overlay's options and the live view's mirror and touch guard."""

    overlay: OverlayOptions
    mirror: bool = True
    touch_guard: bool = False


def sidebar_plan(catalogue: Catalogue, now: datetime) -> tuple[list[Treatment], str, float, float]:
    """The treatment rows, the method, the margin and the caution band, as chosen in the sidebar."""
    labels = {a.id: f"{a.kind.capitalize()} · {a.label}" for a in catalogue.areas}
    products = {p.id: p.label for p in catalogue.products}
    st.sidebar.header("Treatment plan")
    treatments: list[Treatment] = []
    for i in range(st.session_state["treatment_count"]):
        box = st.sidebar.container(border=True, key=f"treatment_{i}")
        areas = box.multiselect(
            f"Treated areas #{i + 1}",
            [a.id for a in catalogue.areas_by_kind()],
            format_func=labels.__getitem__,
            key=f"t{i}_areas",
            placeholder="Choose areas",
        )
        product = (
            box.selectbox("Product", list(products), format_func=products.__getitem__, key=f"t{i}_product")
            or catalogue.default_product
        )
        day = box.date_input("Date", key=f"t{i}_date", max_value=now.date(), format="YYYY-MM-DD")
        has_time = catalogue.time_matters(product)
        moment = datetime.combine(day, clock_time())
        if has_time:
            at = box.time_input("Time", key=f"t{i}_time", step=timedelta(minutes=15))
            moment = datetime.combine(day, at)
        injector = box.text_input(
            "Your injector's wait (optional)",
            key=f"t{i}_injector",
            placeholder="e.g. 2d or 36h",
            help="The wait your own injector gave for these areas: it wins over the "
            "catalogue, and the page says so.",
        )
        waits: tuple[tuple[str, Span], ...] = ()
        if injector.strip():
            try:
                span = Span.model_validate(injector.strip())
                waits = tuple((area, span) for area in areas)
            except ValidationError:
                box.error(f"{injector!r} is not a wait: write it like 2d or 36h. The catalogue decides.")
        if areas:
            treatments.append(Treatment(tuple(areas), product, moment, has_time, injector_waits=waits))
    add, remove = st.sidebar.columns(2)
    add.button(
        "Add treatment",
        on_click=_add_treatment,
        args=(catalogue.default_product,),
        disabled=len(treatments) >= MAX_TREATMENTS,
        width="stretch",
    )
    remove.button(
        "Remove last",
        on_click=_remove_treatment,
        disabled=st.session_state["treatment_count"] <= 1,
        width="stretch",
    )
    methods = {m.id: m.label for m in catalogue.methods}
    method = st.sidebar.radio("Method", list(methods), format_func=methods.get, key="method")
    margin = st.sidebar.slider(
        "Margin around treated areas (mm)",
        0.0,
        30.0,
        step=1.0,
        key="margin_mm",
        help="Skin kept clear around each no-touch area, on top of the area itself.",
    )
    band = st.sidebar.slider(
        "Caution band outside the margin (mm)",
        0.0,
        30.0,
        step=1.0,
        key="caution_band_mm",
        help="Strokes this close beyond the margin show as caution (light pressure).",
    )
    return treatments, method, margin, band


def _add_treatment(product: str) -> None:
    i = st.session_state["treatment_count"]
    st.session_state.update(
        {
            f"t{i}_areas": [],
            f"t{i}_product": product,
            f"t{i}_injector": "",
            f"t{i}_date": date.today(),
            f"t{i}_time": clock_time(12, 0),
            "treatment_count": i + 1,
        }
    )


def _remove_treatment() -> None:
    st.session_state["treatment_count"] = max(1, st.session_state["treatment_count"] - 1)


def sidebar_display() -> Display:
    st.sidebar.header("View")
    shown = st.sidebar.pills("Show", list(LAYERS), selection_mode="multi", key="layers")
    opacity = st.sidebar.slider("Opacity of the treated areas", 0.1, 1.0, step=0.05, key="opacity")
    mirror = st.sidebar.toggle(
        "Mirror (selfie view)",
        key="mirror",
        help="Live camera and snapshots only; labels keep the subject's true sides.",
    )
    large = st.sidebar.toggle("Large labels (big screen)", key="large_labels")
    guard = st.sidebar.toggle(
        "Touch guard (hand tracking)",
        key="touch_guard",
        help="Tracks your hands and warns when a fingertip enters a no-touch area.",
    )
    overlay = OverlayOptions(
        large_labels=large, opacity=float(opacity), **{field: name in shown for name, field in LAYERS.items()}
    )
    return Display(overlay=overlay, mirror=mirror, touch_guard=guard)


def sidebar_plan_files(plan: Plan | None) -> None:
    st.sidebar.header("Plan file")
    if plan is not None:
        st.sidebar.download_button(
            "Save plan (JSON)",
            json.dumps(plan.to_json(), indent=2) + "\n",
            file_name="facezones-plan.json",
            mime="application/json",
            width="stretch",
        )
    st.sidebar.file_uploader("Load a plan", type=["json"], key="plan_upload", on_change=on_plan_upload)
    message = st.session_state.pop("plan_message", None)
    if message:
        (st.sidebar.success if message.startswith("Loaded") else st.sidebar.error)(message)


def init_state(catalogue: Catalogue, now: datetime, store: Store | None) -> None:
    """First run of a session: the default person's recorded treatments, else the demonstration plan, and
    the default view."""
    if "treatment_count" in st.session_state:
        return
    recorded = None
    if store is not None:
        try:
            recorded = in_effect_plan(store.plan(store.ensure_person().name, now), limit=MAX_TREATMENTS)
        except StoreError:
            recorded = None
    seed_widgets(st.session_state, recorded if recorded and recorded.treatments
                 else demo_plan(catalogue, now))  # fmt: skip
    st.session_state.update(
        {
            "caution_band_mm": catalogue.defaults.caution_band_mm,
            "warning_open": False,
            "layers": ["Guide", "Labels", "Legend", "Status HUD"],
            "opacity": 0.42,
            "mirror": True,
            "large_labels": False,
            "touch_guard": False,
            "preview_days": 0,
            "mode": MODES[0],
            "photo_source": PHOTO_SOURCES[0],
            "clip_source": CLIP_SOURCES[0],
            "step": 0,
        }
    )


# ------------------------------------------------------------------------------------ page sections ---


@contextmanager
def friendly_errors(what: str) -> Iterator[None]:
    """Show a short message instead of a traceback; log the details on the server."""
    try:
        yield
    except (ImageError, PlanError, CatalogueError, AssetError, VideoError) as err:
        st.error(str(err))
    except Exception as err:  # the page must stay usable whatever a file or frame does
        LOG.exception("%s failed", what)
        st.error(f"Sorry, {what} failed ({type(err).__name__}). Try another file or setting.")


def screening(catalogue: Catalogue) -> dict[str, bool]:
    """The catalogue's contraindication questions, in plain view before any guidance; the answers given so
    far (question id -> True for "yes"). They are part of the plan: saved and loaded with it."""
    answers: dict[str, bool] = {}
    given = st.session_state.setdefault("screening_given", {})  # question id -> "No" / "Yes"
    with st.container(border=True, key="screening"):
        st.markdown("**Before any guidance: do any of these apply to you?**")
        for question in catalogue.screening:
            key = f"screen_{question.id}"
            if st.session_state.get(key) is None and question.id in given:
                # Streamlit drops a widget's state when a run under load misses it: the answer given stays
                st.session_state[key] = given[question.id]
            answer = st.radio(question.question, ["No", "Yes"], index=None, horizontal=True, key=key)
            if answer is not None:
                given[question.id] = answer
                answers[question.id] = answer == "Yes"
    return answers


def guidance_notice(settings: Settings) -> None:
    """Why no stroke is shown and what to do, when guidance is withheld."""
    safety = pipeline_for(settings).safety
    if not safety.withheld:
        return
    guidance = safety.guidance
    if guidance.answered_yes or settings.warning_sign:
        lines = [f"- {reason} **{action}**" for reason, action in
                 zip(guidance.reasons, guidance.actions, strict=True)]  # fmt: skip
        st.error(
            "**Guidance withheld: no stroke is shown as safe.** Treated areas still show.\n"
            + "\n".join(lines),
            icon="⛔",
        )
    else:
        st.warning(
            "**Answer the questions above first:** until then no stroke is shown. Treated areas still show.",
            icon="✋",
        )


def _open_warning() -> None:
    st.session_state["warning_open"] = True


def _close_warning() -> None:
    st.session_state["warning_open"] = False


def warning_sign_panel(catalogue: Catalogue) -> None:
    """What to do at a warning sign, tier by tier (urgent first); guidance is paused while this is open."""
    with st.container(border=True, key="warning_panel"):
        st.markdown("### Guidance is paused: what to do")
        for tier in catalogue.stop_signs:
            signs = "\n".join(f"- {sign}" for sign in tier.signs)
            text = f"**{tier.title}** if you see:\n{signs}\n\n{tier.action}"
            if tier.threshold:
                text += f"\n\n{tier.threshold}"
            (st.error if tier.level == "urgent" else st.warning)(text)
            cited = catalogue.evidence(tier.sources)
            st.caption(
                "Sources: "
                + "; ".join(
                    f"{e.publisher} ({e.grade_text}){' ' + e.address if e.address else ''}" for e in cited
                )
            )
        st.button("The signs are gone: resume guidance", on_click=_close_warning, key="warning_close")


def before_you_start(catalogue: Catalogue) -> None:
    with st.expander("Stop signs, and every rule with its sources", expanded=False):
        for tier in catalogue.stop_signs:
            st.markdown(f"**{tier.title}:** {'; '.join(tier.signs)}. {tier.action} {tier.threshold}")
        st.markdown("Self-massage done wrongly can cause swelling: prefer guidance from a professional.")
        st.caption(DISCLAIMER)
        st.markdown("**Every rule and its source** (catalogue defaults; a practitioner may edit them):")
        products = {p.id: p.label for p in catalogue.products}
        methods = {m.id: m.label for m in catalogue.methods}
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "product": products[r.product],
                        "method": methods[r.method],
                        "wait": r.wait.text,
                        "range": r.range_text,
                        "areas": ", ".join(r.areas) or "all",
                        "note": r.note,
                        "source": sources_text(catalogue.evidence(r.sources)),
                    }
                    for r in catalogue.rules
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def sources_view(plan: Plan, catalogue: Catalogue) -> None:
    """For every treated area: who decided its verdict, the rule, its default, the range its sources span,
    and the sources with their figures, one click away."""
    rows = evidence_rows(evaluate(plan, catalogue), catalogue)
    if not rows:
        return
    st.markdown("**Why? The rule behind each treated area** (open one to see its sources)")
    for row in rows:
        until = f" until {row.until}" if row.until else ""
        title = f"{row.area_label}: {row.status.replace('_', '-')}{until} · decided by {row.decided_by}"
        with st.expander(title, expanded=False):
            st.markdown(row.explanation)
            if row.note:
                st.caption(row.note)
            for evidence in row.sources:
                where = (
                    f" [{evidence.address}](https://{evidence.address.replace(' ', '%20')})"
                    if (evidence.address)
                    else ""
                )
                st.markdown(
                    f"- **{evidence.publisher}**, *{evidence.title}* ({evidence.grade_text}): "
                    f"{evidence.figure}.{where}"
                )


METHOD_COLOURS = ("#2f7d6d", "#d9822b", "#6c4fc2", "#3d7fc4", "#b8475d")


def timeline_chart(plan: Plan, catalogue: Catalogue) -> alt.LayerChart | None:
    """When each treated area becomes safe for each method: a bar from its treatment to the day it is safe
    (solid), then the days to go gently (pale); the red rule is the preview moment."""
    methods = {m.id: m.label for m in catalogue.methods}
    rows = [
        {
            "area": e.area_label,
            "method": methods[e.method],
            "treated": e.treated_at,
            "no touch until": e.safe_from,
            "gently until": e.caution_until or e.safe_from,
            "no_touch_text": format_day(e.safe_from),
            "gently_text": format_day(e.caution_until or e.safe_from),
            "source": e.source,
        }
        for e in timeline(plan, catalogue)
        if e.safe_from is not None
    ]  # prescribed massage: no wait
    if not rows:
        return None
    data = pd.DataFrame(rows)
    areas = list(dict.fromkeys(data["area"]))
    y = alt.Y("area:N", title=None, sort=areas, axis=alt.Axis(labelLimit=220))
    scale = alt.Scale(domain=list(methods.values()), range=list(METHOD_COLOURS[: len(methods)]))
    colour = alt.Color(
        "method:N", title="Method", legend=alt.Legend(orient="bottom", labelLimit=260), scale=scale
    )
    bars = (
        alt.Chart(data)
        .mark_bar(height={"band": 0.9})
        .encode(
            x=alt.X("treated:T", title=None, axis=alt.Axis(format="%-d %b")),
            x2="no touch until:T",
            y=y,
            yOffset="method:N",
            color=colour,
            tooltip=[
                "area",
                "method",
                alt.Tooltip("no_touch_text:N", title="no touch until"),
                alt.Tooltip("gently_text:N", title="gently until"),
                "source",
            ],
        )
    )
    tails = (
        alt.Chart(data)
        .mark_bar(opacity=0.3, height={"band": 0.9})
        .encode(
            x="no touch until:T",
            x2="gently until:T",
            y=y,
            yOffset="method:N",
            color=alt.Color("method:N", scale=scale, legend=None),
        )
    )
    moment = pd.DataFrame({"at": [plan.moment], "label": [f"preview {format_day(plan.moment)}"]})
    rule = alt.Chart(moment).mark_rule(color="#c0392b", strokeWidth=2).encode(x="at:T")
    text = (
        alt.Chart(moment)
        .mark_text(color="#c0392b", align="left", dx=4, dy=-6, baseline="bottom")
        .encode(x="at:T", text="label:N", y=alt.value(0))
    )
    return (bars + tails + rule + text).properties(
        height=alt.Step(15),  # per bar: one bar per method within each area's band
        title="Safe again from: solid bars no touch, pale bars gently; red line: the preview moment",
    )


def plan_table(plan: Plan, catalogue: Catalogue) -> None:
    """The verdict for every area that is not simply safe, with its reason and source."""
    rows = attention_rows(evaluate(plan, catalogue), catalogue)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.caption("Every area is safe for this method on the preview day.")


# --------------------------------------------------------------------------------- settings and frames ---


@st.cache_data(max_entries=16, show_spinner="Finding every face…")
def detect_faces(image: np.ndarray) -> tuple[Faces, int]:
    """Every face of a photo, largest first, and how many more the detector saw but could not map."""
    finder, lock = shared_detector()
    with lock:
        found = finder.find(image, color="bgr")
    return found.faces, len(found.unmapped)


def detect_hands(image: np.ndarray) -> Hands:
    detector, lock = shared_hand_detector()
    with lock:
        return detector.detect(image, color="bgr")


def encode_png(image_bgr: np.ndarray) -> bytes:
    """PNG from the pixels only: nothing of the upload's metadata (EXIF, GPS, ICC) is carried over."""
    ok, encoded = cv2.imencode(".png", image_bgr)
    if not ok:
        raise ValueError("the annotated image could not be encoded")
    return encoded.tobytes()


def show_faces_message(notes: tuple[str, ...], hidden: tuple[str, ...], unmapped: int) -> None:
    """What was not found or is not drawn: the frame's notes, the areas out of sight, faces left unmapped."""
    for note in notes:
        st.warning(note)
    if hidden:
        st.markdown("**Turn your head to see:**\n" + "\n".join(f"- {label}" for label in hidden))
    if unmapped:
        st.info(f"{unmapped} more face(s) seen but not mapped (too small, blurred or turned).")


def show_no_touch(items: tuple[str, ...]) -> None:
    if items:
        st.markdown("**No touch:**\n" + "\n".join(f"- {item}" for item in items))
    else:
        st.markdown("**No area is no-touch** for this method on the preview day.")


def no_touch_list(settings: Settings) -> None:
    show_no_touch(no_touch_summary(settings))


def annotate_still(image: np.ndarray, settings: Settings) -> tuple[np.ndarray, SceneData, tuple[str, ...]]:
    """One photo through the shared pipeline: detect (hands too with the touch guard), apply the view, draw.

    Returns the picture, the frame's record and the labels of the no-touch areas a fingertip is in.
    """
    faces, _ = detect_faces(image)
    hands = detect_hands(image) if settings.touch_guard else None
    pipeline = pipeline_for(settings)
    shown, result = pipeline.process(image, faces, hands)
    touching = result.touch.active_labels if result.touch is not None else ()
    return pipeline.render(shown, result), result, touching


def choose_face(image: np.ndarray) -> int | None:
    """With several faces in the photo, which one the plan applies to (the largest by default)."""
    faces, _ = detect_faces(image)
    if len(faces) < 2:
        return None
    widths = (faces.boxes[:, 2] - faces.boxes[:, 0]).tolist()
    names = [f"Face {i + 1}{' (largest)' if i == 0 else ''}, {w:.0f} px wide" for i, w in enumerate(widths)]
    choice = st.selectbox(
        "The plan applies to",
        range(len(faces)),
        format_func=names.__getitem__,
        key="plan_face",
        help="The other faces get a grey outline and no plan.",
    )
    return int(choice) if choice is not None and choice < len(faces) else None


# ---------------------------------------------------------------------------------------------- modes ---


def photo_mode(settings: Settings, display: Display) -> None:
    source = st.segmented_control("Photo", PHOTO_SOURCES, key="photo_source", required=True)
    mirror = False  # a photo is shown as taken; only the camera snapshot follows the selfie view
    if source == "Samples":
        samples = sample_photos()
        choice = st.selectbox("Sample", list(samples), key="sample")
        image, name = read_image(samples[choice]), samples[choice].stem
    elif source == "Upload":
        upload = st.file_uploader(
            "Your photo", type=["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"], key="photo_upload"
        )
        if upload is None:
            st.info("Choose a photo of one face, looking at the camera.")
            return
        image, name = read_image(upload.getvalue()), Path(upload.name).stem
    else:
        st.caption("Where live video cannot start, a snapshot from the camera works too.")
        shot = st.camera_input("Snapshot", key="snapshot")
        if shot is None:
            return
        image, mirror, name = read_image(shot.getvalue()), display.mirror, "snapshot"
    face = choose_face(image)
    shown, result, touching = annotate_still(image, replace(settings, mirror=mirror, face=face))
    picture, notes = st.columns([3, 2])
    picture.image(shown[:, :, ::-1], caption=f"{name}: {len(result.faces)} face(s)", width="stretch")
    with notes:
        show_faces_message(result.notes, result.hidden_areas, detect_faces(image)[1])
        if touching:
            st.error("Fingertip in a no-touch area: " + ", ".join(touching))
        no_touch_list(settings)
        st.download_button(
            "Download the annotated image (PNG)",
            encode_png(shown),
            file_name=f"facezones-{name}.png",
            mime="image/png",
            key="download_photo",
        )


def ice_servers() -> list[dict[str, Any]]:
    """ICE servers for WebRTC: none on the same machine; a remote set-up names its STUN/TURN servers in
    ``$FACEZONES_ICE_SERVERS`` as JSON, e.g. ``[{"urls": ["stun:stun.example.org:3478"]}]``."""
    configured = os.environ.get("FACEZONES_ICE_SERVERS", "").strip()
    if not configured:
        return []
    try:
        servers = json.loads(configured)
    except json.JSONDecodeError:
        servers = None
    if not isinstance(servers, list) or not all(isinstance(s, dict) and "urls" in s for s in servers):
        st.warning('FACEZONES_ICE_SERVERS is not a JSON list of {"urls": ...}: using no ICE server.')
        return []
    return servers


def live_callback() -> LiveCallback[Settings]:
    """This session's frame callback (kept across reruns: the stream's worker holds on to it)."""
    if "live_callback" not in st.session_state:
        st.session_state["live_callback"] = LiveCallback(SettingsBox(Settings()), PipelineFrames)
    return st.session_state["live_callback"]


def live_mode(settings: Settings) -> None:
    callback = live_callback()
    callback.settings.set(settings)  # swapped whole; the frame thread picks it up on its next frame
    video, side = st.columns([3, 2])
    with video:
        prepare_stream_context(session_state(), STREAM_KEY)
        use_live_transport()
        context = webrtc_streamer(
            key=STREAM_KEY,
            mode=WebRtcMode.SENDRECV,
            rtc_configuration={"iceServers": ice_servers()},
            media_stream_constraints={
                "video": {"width": {"ideal": 640}, "height": {"ideal": 480}, "frameRate": {"ideal": 30}},
                "audio": False,
            },
            video_frame_callback=callback,
            on_video_ended=callback.end_stream,
            async_processing=True,
        )
        st.caption(
            "Press START and allow the camera. Nothing leaves this computer: frames go to the local "
            "server only. If live video will not start, use Photos → Camera snapshot."
        )
    with side:
        live_status(callback, context.state.playing)


def live_status(callback: LiveCallback[Settings], playing: bool) -> None:
    @st.fragment(run_every=0.5 if playing else None)
    def panel() -> None:
        status = callback.status.peek()
        with st.container(key="live_status"):
            if status is None:
                st.caption("No frames yet.")
                return
            fps, frames, faces = st.columns(3)
            fps.metric("Processed fps", f"{status.fps:.1f}")
            frames.metric("Frames", status.frames)
            faces.metric("Faces", status.report.faces)
            st.caption(
                f"Stream {status.stream} · {status.size[0]}×{status.size[1]} · "
                f"{status.frame_ms:.0f} ms per frame · errors {status.errors}"
            )
            if status.report.hint:
                st.warning(status.report.hint)
            if status.report.touching:
                st.error("Fingertip in a no-touch area: " + ", ".join(status.report.touching))
            if status.report.withheld:
                st.error("Guidance withheld: no stroke is shown.")
            st.caption(f"Caution (light pressure): {status.report.caution_segments} stroke segment(s)")
            show_no_touch(status.report.no_touch)
            if status.errors:
                st.error(
                    f"{status.errors} frame(s) could not be mapped and were shown as they came "
                    f"({status.last_error.split(':')[0]}); the stream goes on."
                )
        frame = callback.last_frame.peek()
        if frame is not None and st.button("Take a snapshot", key="take_snapshot"):
            st.session_state["live_snapshot"] = encode_png(frame)
        snapshot = st.session_state.get("live_snapshot")
        if snapshot is not None:
            st.image(snapshot, width=200, caption="Snapshot")
            st.download_button(
                "Download the snapshot (PNG)",
                snapshot,
                file_name="facezones-snapshot.png",
                mime="image/png",
                key="download_snapshot",
            )

    panel()


def replay_mode(settings: Settings) -> None:
    source = st.segmented_control("Clip", CLIP_SOURCES, key="clip_source", required=True)
    if source == "Upload":
        upload = st.file_uploader("Your clip", type=["mp4", "mov", "webm", "mkv", "avi"], key="clip_upload")
        if upload is None:
            st.info(f"Choose a short clip; the first {REPLAY_SECONDS:.0f} s are mapped.")
            return
        key, name, data, path = f"upload:{upload.file_id}", Path(upload.name).name, upload.getvalue(), None
    else:
        key, name, data, path = "sample", "sample-clip", None, ensure(SAMPLE_CLIP)
    plan = settings.plan
    # A changed plan, day or view makes the mapped clip stale (the minute "now" moves on does not).
    inputs = (
        plan.treatments,
        plan.method,
        plan.margin_mm,
        plan.moment.date(),
        settings.overlay,
        settings.current_line,
        settings.touch_guard,
    )
    key = f"{key}:{hash(inputs)}"
    if st.button("Map this clip", type="primary", key="replay_run"):
        progress = st.progress(0.0, text="Mapping the clip…")
        with tempfile.TemporaryDirectory() as workdir:
            if path is None:
                assert data is not None  # an upload brings its bytes
                path = Path(workdir) / name
                path.write_bytes(data)

            def on_progress(done: int, total: int | None) -> None:
                progress.progress(done / max(total or done, 1), f"Frame {done} of {total or '?'}")

            video, reports = replay_clip(path, settings, max_seconds=REPLAY_SECONDS, on_progress=on_progress)
        progress.empty()
        st.session_state["replay"] = {
            "key": key,
            "name": name,
            "video": video,
            "frames": len(reports),
            "faces": sum(r.faces > 0 for r in reports),
        }
    replay = st.session_state.get("replay")
    if replay is None or replay["key"] != key:
        return
    player, notes = st.columns([3, 2])
    player.video(replay["video"], format="video/mp4")
    with notes:
        st.caption(f"{replay['frames']} frames mapped; a face in {replay['faces']} of them.")
        no_touch_list(settings)
        st.download_button(
            "Download the mapped clip (MP4)",
            replay["video"],
            mime="video/mp4",
            file_name=f"facezones-{Path(name).stem}.mp4",
            key="download_clip",
        )


# ------------------------------------------------------------------------------- practitioner mode ---


def _go_to_step(delta: int, count: int) -> None:
    st.session_state["step"] = (st.session_state["step"] + delta) % count
    st.session_state["step_started"] = time.monotonic()
    st.session_state["reps"] = 0


def _count_rep(line_id: str) -> None:
    st.session_state["reps"] = st.session_state.get("reps", 0) + 1
    lines = st.session_state.setdefault("guided_lines", {})
    lines[line_id] = lines.get(line_id, 0) + 1


def _touch_counts() -> dict[str, int]:
    """Touch-guard warnings per area so far in this session's live stream (empty without one)."""
    callback = st.session_state.get("live_callback")
    status = callback.status.peek() if callback is not None else None
    return dict(status.report.warnings) if status is not None else {}


def _on_practitioner() -> None:
    if st.session_state["practitioner"]:
        st.session_state["large_labels"] = True
        st.session_state["step_started"] = time.monotonic()
        st.session_state["reps"] = 0
        st.session_state.update({"guided_started": datetime.now().replace(microsecond=0), "guided_lines": {},
                                 "guided_touch_base": _touch_counts()})  # fmt: skip
    else:
        _save_guided_session()  # turning the mode off ends the session: it saves itself


def _end_guided_session() -> None:
    _save_guided_session()
    st.session_state["practitioner"] = False


def _save_guided_session() -> None:
    """Save the guided session that just ended, with its counts, and tick off the course session it stands
    for; nothing is saved when no repetition was counted."""
    started = st.session_state.pop("guided_started", None)
    lines = st.session_state.pop("guided_lines", {})
    base = st.session_state.pop("guided_touch_base", {})
    if started is None or not lines:
        return
    warnings = {area: n - base.get(area, 0) for area, n in _touch_counts().items() if n > base.get(area, 0)}
    ended = datetime.now().replace(microsecond=0)
    signs = tuple(st.session_state.get("guided_signs", ()))
    method = st.session_state.get("method", "hands")
    record = MassageSession(started, method, ended, "guided", lines, warnings, signs,
                            st.session_state.get("guided_note", ""))  # fmt: skip
    name = st.session_state.get("person", DEFAULT_PERSON)
    try:
        store = shared_store(resolve_url())
        _, ticked = store.add_session(name, record)
    except StoreError as err:
        tell_record("error", f"The session was not saved: {err}")
        return
    reps = sum(lines.values())
    text = f"Saved the guided session for {name}: {reps} repetition(s) on {len(lines)} line(s)"
    if ticked is not None:
        text += f"; course session {ticked.number} ticked off"
    tell_record("success", text + ".")


def practitioner_panel(catalogue: Catalogue) -> str | None:
    """Step controls for the guided session; returns the id of the line to highlight (None: not started)."""
    steps = catalogue.session_lines()
    if not steps:
        st.info("This catalogue defines no session order.")
        return None
    index = st.session_state["step"] % len(steps)
    phase, line = steps[index]
    nodes = {n.id: n.label for n in catalogue.lymph_nodes}
    with st.container(border=True, key="practitioner_panel"):
        st.markdown(f"**Step {index + 1} of {len(steps)} · {phase}**")
        st.markdown(f"### {line.label}")
        st.caption(
            "Stroke slowly along the arrow with light pressure, towards the "
            f"{nodes.get(line.drains_to, 'lymph nodes')}."
        )
        back, forward, rep = st.columns(3)
        back.button(
            "◀ Previous", on_click=_go_to_step, args=(-1, len(steps)), width="stretch", key="step_back"
        )
        forward.button("Next ▶", on_click=_go_to_step, args=(1, len(steps)), width="stretch", key="step_next")
        rep.button("+1 repetition", on_click=_count_rep, args=(line.id,), width="stretch", key="step_rep")

        @st.fragment(run_every=1.0)
        def step_timer() -> None:
            elapsed = time.monotonic() - st.session_state.get("step_started", time.monotonic())
            timer, reps = st.columns(2)
            timer.metric("Step time", f"{int(elapsed // 60)}:{int(elapsed % 60):02d}")
            reps.metric("Repetitions", st.session_state.get("reps", 0))

        step_timer()
        with st.expander("End of the session"):
            st.multiselect(
                "Stop signs you noticed, if any",
                [sign for tier in catalogue.stop_signs for sign in tier.signs],
                key="guided_signs",
            )
            st.text_input("A note for the record", key="guided_note")
            done = sum(st.session_state.get("guided_lines", {}).values())
            st.button(f"End the session and save it ({done} repetition(s))", on_click=_end_guided_session,
                      key="guided_end", type="primary")  # fmt: skip
    return line.id


# -------------------------------------------------------------------------------- the person's record ---


@st.cache_resource(show_spinner=False)
def shared_store(url: str) -> Store:
    """One store per database URL for every session; each write is its own transaction."""
    return Store(url)


def open_store() -> Store | None:
    """The store ``FACEZONES_DB`` names (else the user's data folder); None, with a message, if unusable."""
    try:
        return shared_store(resolve_url())
    except StoreError as err:
        st.sidebar.error(f"Records are off: {err}")
        return None


def _on_person() -> None:
    """Another person chosen: their treatments (those started by now) become the plan on the map."""
    store = shared_store(resolve_url())
    name = st.session_state["person"]
    try:
        plan = in_effect_plan(store.plan(name), limit=MAX_TREATMENTS)
    except StoreError as err:
        tell_record("error", str(err))
        return
    if plan.treatments:
        seed_widgets(st.session_state, plan)


def _add_person() -> None:
    name = st.session_state.get("new_person", "")
    try:
        person = shared_store(resolve_url()).add_person(name)
    except StoreError as err:
        tell_record("error", str(err))
        return
    st.session_state.update({"person": person.name, "new_person": ""})
    tell_record("success", f"Added {person.name}.")


def sidebar_person(store: Store) -> str:
    """Whose record the page shows; a practitioner adds clients here (the default person is "me")."""
    st.sidebar.header("Person")
    names = [p.name for p in store.people()] or [store.ensure_person().name]
    if st.session_state.get("person") not in names:
        st.session_state["person"] = DEFAULT_PERSON if DEFAULT_PERSON in names else names[0]
    name = st.sidebar.selectbox("Whose record", names, key="person", on_change=_on_person)
    with st.sidebar.expander("Add a person"):
        st.text_input("Name", key="new_person", placeholder="e.g. a client's name")
        st.button("Add", on_click=_add_person, key="add_person")
    return str(name)


def tell_record(kind: str, text: str) -> None:
    """Say ``text`` ("success" or "error") above the record, on every run for ``RECORD_MESSAGE_S``: a rerun
    right after the action (another click, a timer) would otherwise wipe it before it was read."""
    st.session_state["record_message"] = (kind, text, time.monotonic() + RECORD_MESSAGE_S)


def record_message() -> None:
    kind, text, until = st.session_state.get("record_message", ("", "", 0.0))
    if time.monotonic() > until:
        st.session_state.pop("record_message", None)
    else:
        (st.success if kind == "success" else st.error)(text)


EVENT_COLOURS = {"done": "#2f7d6d", "planned": "#3d7fc4", "to come": "#9aa5b1", "missed": "#b8475d"}
FIXED_LANES = ("Treatments", "Preparatory course", "Massage sessions")


def person_timeline_chart(history: History) -> alt.LayerChart | None:
    """The person's timeline: treatments, course sessions (done, to come, missed) and massage sessions as
    marks; per treated area one bar per method from the treatment to the day it is safe again for that method
    (pale: a planned treatment's); the dashed rule is now."""
    rows = history.chart_rows()
    if not rows:
        return None
    data = pd.DataFrame(rows)
    data["when"] = [format_day(moment) for moment in data["start"]]
    lanes = [lane for lane in FIXED_LANES if lane in set(data["lane"])]
    lanes += list(dict.fromkeys(lane for lane in data["lane"] if lane not in FIXED_LANES))
    y = alt.Y("lane:N", title=None, sort=lanes, axis=alt.Axis(labelLimit=280))
    x = alt.X("start:T", title=None, axis=alt.Axis(format="%-d %b"))
    tooltip = [alt.Tooltip("label:N", title="what"), alt.Tooltip("when:N", title="from"), "state:N"]
    layers: list[alt.Chart] = []
    waits = data[data["kind"] == "safe_again"]
    if len(waits):
        methods = [m.label for m in history.catalogue.methods]
        scale = alt.Scale(domain=methods, range=list(METHOD_COLOURS[: len(methods)]))
        layers.append(alt.Chart(waits).mark_bar(height={"band": 0.9}).encode(
            x=x, x2="end:T", y=y, yOffset=alt.YOffset("method:N", sort=methods),
            color=alt.Color("method:N", title="Safe again for", scale=scale,
                            legend=alt.Legend(orient="bottom", labelLimit=260)),
            opacity=alt.condition(alt.datum.state == "planned", alt.value(0.4), alt.value(1.0)),
            tooltip=tooltip))  # fmt: skip
    events = data[data["kind"] != "safe_again"]
    if len(events):
        scale = alt.Scale(domain=list(EVENT_COLOURS), range=list(EVENT_COLOURS.values()))
        layers.append(alt.Chart(events).mark_point(filled=True, size=160, opacity=1).encode(
            x=x, y=y, color=alt.Color("state:N", title=None, scale=scale, legend=alt.Legend(orient="bottom")),
            shape=alt.Shape("kind:N", legend=None), tooltip=tooltip))  # fmt: skip
    now = pd.DataFrame({"at": [history.today], "label": [f"now: {format_day(history.today)}"]})
    layers.append(alt.Chart(now).mark_rule(color="#222222", strokeDash=[5, 3]).encode(x="at:T"))
    layers.append(alt.Chart(now).mark_text(align="left", dx=4, dy=-6, baseline="bottom").encode(
        x="at:T", text="label:N", y=alt.value(0)))  # fmt: skip
    return alt.layer(*layers).resolve_scale(color="independent").properties(height=alt.Step(30))


def session_log_rows(history: History) -> list[dict[str, Any]]:
    labels = {a.id: a.label for a in history.catalogue.areas}
    methods = {m.id: m.label for m in history.catalogue.methods}
    rows = []
    for session in reversed(history.sessions):
        minutes = (session.ended_at - session.started_at).total_seconds() / 60 if session.ended_at else None
        rows.append({
            "day": format_day(session.started_at), "minutes": None if minutes is None else round(minutes),
            "mode": session.mode, "method": methods.get(session.method, session.method),
            "lines": len(session.lines), "repetitions": sum(session.lines.values()),
            "touch warnings": ", ".join(f"{labels.get(a, a)} ×{n}" for a, n in session.warnings.items()),
            "stop signs": ", ".join(session.stop_signs), "note": session.note,
        })  # fmt: skip
    return rows


def _tick(name: str, key: int, widget: str, shown_done: bool) -> None:
    """The user ticked (or unticked) a course session. An event that reports the state the box was drawn with
    is a stale echo (a busy page sends an old box's state after a guided session ticked it): ignored, or it
    would untick the session just done."""
    done = bool(st.session_state.get(widget))
    if done == shown_done:
        return
    try:
        shared_store(resolve_url()).tick_course_session(name, key, done=done)
    except StoreError as err:
        tell_record("error", str(err))


def course_panel(history: History) -> None:
    """Each course with its sessions; the open course's sessions are ticked off here by hand."""
    if not history.courses:
        st.caption("No preparatory course: planning a filler treatment (Treatments tab) proposes one.")
        return
    labels = {a.id: a.label for a in history.catalogue.areas}
    for record, status in history.course_statuses():
        course = record.course
        st.markdown(f"**Before the treatment on {format_day(course.treatment_day)}** · {status.message}")
        if course.short:
            fewest, most = course.wanted
            st.warning(f"Only {len(course.sessions)} session(s) fit before the treatment day; the source "
                       f"asks for {fewest}-{most}.")  # fmt: skip
        for item in course.sessions:
            # the key carries the stored state: a tick saved elsewhere (a guided session) makes a new widget
            # instead of fighting the browser's stale one
            key = f"course_{item.key}_{'done' if item.done else 'open'}"
            covers = ", ".join(labels.get(a, a) for a in item.areas)
            st.checkbox(f"{item.number}. {format_day(item.due)}: {covers}", value=item.done,
                        key=key, disabled=not status.open or item.key is None,
                        on_change=_tick, args=(history.name, item.key, key, item.done))  # fmt: skip
        st.caption(f"{course.note} Source: {course.source}.")


def _mark_done(name: str, key: int, booked: datetime) -> None:
    now = datetime.now().replace(second=0, microsecond=0)
    try:
        shared_store(resolve_url()).mark_done(name, key, min(booked, now), now=now)
    except StoreError as err:
        tell_record("error", str(err))


def _show_on_map(name: str) -> None:
    stored = shared_store(resolve_url()).plan(name)
    seed_widgets(st.session_state, in_effect_plan(stored, limit=MAX_TREATMENTS))


def treatments_panel(history: History, store: Store, catalogue: Catalogue, now: datetime) -> None:
    """The stored treatments (a planned one can be marked done), a form to add one, and "show on the map"."""
    labels = {a.id: a.label for a in catalogue.areas}
    products = {p.id: p.label for p in catalogue.products}
    for record in reversed(history.treatments):
        t = record.treatment
        text, button = st.columns([4, 1], vertical_alignment="center")
        state = "planned" if t.planned else "done"
        given = "".join(f"; injector: {labels.get(a, a)} {w}" for a, w in record.injector_waits.items())
        text.markdown(f"**{format_day(t.treated_at)}** · {products.get(t.product, t.product)} on "
                      f"{', '.join(labels.get(a, a) for a in t.areas)} · {state}{given}")  # fmt: skip
        if t.planned:
            button.button("Mark done", key=f"done_{record.key}", on_click=_mark_done,
                          args=(history.name, record.key, t.treated_at))  # fmt: skip
    if history.treatments:
        st.button("Show these treatments on the map", on_click=_show_on_map, args=(history.name,),
                  key="record_to_map")  # fmt: skip
    with st.form("add_treatment", clear_on_submit=True, border=True):
        st.markdown("**Add a treatment to the record**")
        choices = [a.id for a in catalogue.areas_by_kind()]
        areas = st.multiselect("Areas", choices, format_func=labels.__getitem__, key="new_areas")
        product = st.selectbox("Product", list(products), format_func=products.__getitem__, key="new_product")
        day = st.date_input("Date", value=now.date(), format="YYYY-MM-DD", key="new_date")
        planned = st.checkbox("Planned: booked for that day, not done yet (a filler gets its course)",
                              key="new_planned")  # fmt: skip
        wait = st.text_input("Injector's wait for these areas, if given (e.g. 10d or 48h)", key="new_wait")
        note = st.text_input("Note", key="new_note")
        if st.form_submit_button("Add to the record", key="new_submit") and areas:
            treatment = Treatment(tuple(areas), product or catalogue.default_product,
                                  datetime.combine(day, clock_time()), planned=planned)  # fmt: skip
            try:
                waits = dict.fromkeys(areas, wait) if wait else None
                store.add_treatment(history.name, treatment, injector_waits=waits,
                                    note=note, catalogue=catalogue, today=now)  # fmt: skip
            except StoreError as err:
                tell_record("error", str(err))
            st.rerun()


def person_record(store: Store, catalogue: Catalogue, name: str, now: datetime) -> None:
    """Where the person stands today, then their timeline, session log, course and treatments."""
    try:
        history = person_history(store, name, catalogue, now)
    except StoreError as err:
        st.error(str(err))
        return
    st.subheader(f"Record of {history.name}")
    with st.container(border=True, key="record_today"):
        st.markdown(f"**Today, {format_day(now)}.** {history.today_text()}")
        running = history.open_course
        if running is not None and running[1].next is not None and running[1].next.due == now.date():
            lines = {line.id: line.label for line in catalogue.lines}
            st.caption("Today's course session: " + "; ".join(lines.get(i, i) for i in running[1].next.lines))
    record_message()
    tabs = st.tabs(["Timeline", "Session log", "Course", "Treatments"])
    timeline_tab, log_tab, course_tab, treatments_tab = tabs
    with timeline_tab, st.container(key="person_timeline"), friendly_errors("drawing the timeline"):
        chart = person_timeline_chart(history)
        if chart is None:
            st.caption("Nothing recorded yet.")
        else:
            st.altair_chart(chart, width="stretch")
    with log_tab, st.container(key="session_log"):
        rows = session_log_rows(history)
        if rows:
            st.table(pd.DataFrame(rows).set_index("day"))
        else:
            st.caption("No massage session recorded yet: a guided session (practitioner mode) saves itself "
                       "when it ends.")  # fmt: skip
    with course_tab:
        course_panel(history)
    with treatments_tab:
        treatments_panel(history, store, catalogue, now)


# ------------------------------------------------------------------------------------------------ page ---


def main() -> None:
    st.set_page_config(page_title="FaceZones", page_icon="🫧", layout="wide")
    now = datetime.now().replace(second=0, microsecond=0)
    try:
        catalogue = catalogue_for(catalogue_path())
    except (CatalogueError, OSError) as err:
        st.error(f"The catalogue cannot be used: {err}")
        st.stop()
    store = open_store()
    init_state(catalogue, now, store)
    st.sidebar.button(
        "⚠ I see a warning sign",
        on_click=_open_warning,
        type="primary",
        width="stretch",
        key="warning_open_button",
        help="Pauses guidance and shows what to do.",
    )
    person = sidebar_person(store) if store is not None else None
    treatments, method, margin, band = sidebar_plan(catalogue, now)
    display = sidebar_display()

    st.title("FaceZones")
    st.caption(f"{TAGLINE} {DISCLAIMER}")
    if st.session_state.get("warning_open"):
        warning_sign_panel(catalogue)
    answers = screening(catalogue)
    before_you_start(catalogue)
    preview, practitioner_column = st.columns([3, 2], vertical_alignment="bottom")
    days = preview.slider(
        "Preview day: how the map changes over the coming days",
        0,
        PREVIEW_DAYS,
        key="preview_days",
        format="+%d days",
    )
    practitioner = practitioner_column.toggle(
        "Practitioner mode (guided session)", key="practitioner", on_change=_on_practitioner
    )
    plan: Plan | None = None
    try:
        plan = Plan(
            tuple(treatments),
            method,
            now + timedelta(days=days),
            margin_mm=margin,
            caution_band_mm=band,
            screening=tuple(answers.items()),
        )
        plan.check(catalogue)
    except PlanError as err:
        st.error(str(err))
        plan = None
    sidebar_plan_files(plan)
    if days:
        st.info(f"Preview of {format_day(now + timedelta(days=days))} (today + {days} days).")

    mode = st.segmented_control("Way in", MODES, key="mode", required=True)
    if mode != "Live camera" or plan is None:  # the streamer is not drawn in this run: its context is stale
        release_stream_context(session_state(), STREAM_KEY)
    if plan is None:
        return
    warning = WARNING_SIGN_REPORTED if st.session_state.get("warning_open") else None
    settings = Settings(
        plan=plan,
        catalogue_path=catalogue_path(),
        overlay=display.overlay,
        touch_guard=display.touch_guard,
        require_answers=True,
        warning_sign=warning,
    )
    guidance_notice(settings)
    guided = practitioner and not pipeline_for(settings).safety.withheld
    if practitioner and not guided:
        st.info("The guided session starts once guidance is given.")
    settings = replace(settings, current_line=practitioner_panel(catalogue) if guided else None)
    if mode == "Live camera":
        with friendly_errors("the live camera"):
            live_mode(replace(settings, mirror=display.mirror))
    elif mode == "Video replay":
        with friendly_errors("mapping the clip"):
            replay_mode(settings)
    else:
        with friendly_errors("mapping the photo"):
            photo_mode(settings, display)

    st.subheader("The plan at a glance")
    with friendly_errors("drawing the plan"):
        chart = timeline_chart(plan, catalogue)
        if chart is not None:
            st.altair_chart(chart, width="stretch")
        plan_table(plan, catalogue)
        sources_view(plan, catalogue)
    if store is not None and person is not None:
        person_record(store, catalogue, person, now)


main()

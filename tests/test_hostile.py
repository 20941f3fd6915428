"""Messy folders, hostile names, untrusted models, interrupted builds: clear errors, nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from aevis.config import BuildConfig
from aevis.data.folders import load_image, read_image_folder
from aevis.errors import AevisError
from aevis.model import load_autoencoder
from aevis.pipeline import build
from aevis.site.staging import MARKER, staged_site
from tests.conftest import TINY_BUILD
from tests.models import overflowing

REPOSITORY = Path(__file__).resolve().parents[1]
HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>.png",
    "a\"b'c&d.png",
    " spaced out .png",
    "日本語.png",
    "%2e%2e%2f..%2Fescape.png",
]


def _png(path: Path, colour=(200, 40, 40), size=(24, 20)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="PNG")


@pytest.fixture
def messy_folder(tmp_path: Path) -> Path:
    """A folder with every kind of trouble a real photo folder has, and a few made on purpose."""
    folder = tmp_path / "messy"
    _png(folder / "good.png")
    _png(folder / "nested" / "deeper" / "good.png", (20, 200, 40))  # same name, another folder
    _png(folder / "really-a-png.jpg", (40, 40, 200))  # wrong extension, right content
    _png(folder / "no-extension", (90, 90, 90))
    for name in HOSTILE_NAMES:
        _png(folder / name, (120, 60, 30))
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.png").write_text("not a picture at all")
    (folder / "readme.txt").write_text("hello")
    whole = (folder / "good.png").read_bytes()
    (folder / "cut.png").write_bytes(whole[: len(whole) // 2])
    (folder / "garbage.gif").write_bytes(os.urandom(300))
    _png(folder / ".hidden.png")
    _png(folder / ".thumbnails" / "cached.png")
    (folder / "loop").symlink_to(folder, target_is_directory=True)  # a symlink loop
    (folder / "dangling.png").symlink_to(folder / "nowhere.png")
    return folder


def test_messy_folder_gives_pages_or_listed_rejects_and_is_left_untouched(messy_folder):
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in messy_folder.rglob("*") if p.is_file()}
    imageset = read_image_folder(messy_folder, (8, 8, 3))
    accepted = set(imageset.sources)
    assert accepted == {"good.png", "nested/deeper/good.png", "really-a-png.jpg", "no-extension", *HOSTILE_NAMES}
    reasons = {reject.path: reject.reason for reject in imageset.rejected}
    assert set(reasons) == {"empty.jpg", "notes.png", "readme.txt", "cut.png", "garbage.gif", "dangling.png"}
    assert reasons["cut.png"] == "the file is cut short (truncated)"
    assert reasons["notes.png"].startswith("not an image in a supported format")
    assert reasons["dangling.png"].startswith("could not be opened")
    after = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in messy_folder.rglob("*") if p.is_file()}
    assert after == before  # the image folder is only read


def test_decompression_bomb_is_rejected_by_pillows_guard(tmp_path, monkeypatch):
    _png(tmp_path / "bomb.png", size=(100, 100))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 10,000 pixels is then > 2x the limit
    imageset_error = None
    try:
        read_image_folder(tmp_path, (8, 8, 3))
    except AevisError as error:
        imageset_error = str(error)
    assert "decompression-bomb guard" in imageset_error


def test_very_large_jpeg_is_decoded_small(tmp_path):
    """JPEG draft mode decodes a 6000x4000 photo at 1/8 scale: no 72 MB frame is ever built."""
    path = tmp_path / "big.jpg"
    Image.new("RGB", (6000, 4000), (10, 120, 220)).save(path, quality=90)
    script = (
        "import resource, sys; from aevis.data.folders import load_image;"
        f"before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; load_image({str(path)!r}, (64, 64, 3));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)"
    )
    grown_kb = int(
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPOSITORY
        ).stdout.split()[-1]
    )
    assert grown_kb < 30_000, f"peak memory grew by {grown_kb} KB"


def test_float_tiff_and_16_bit_png_keep_their_range(tmp_path):
    Image.fromarray(np.full((6, 6), 4.0, np.float32)).save(tmp_path / "float.tif")
    ramp = np.linspace(0, 65535, 36).astype(np.uint16).reshape(6, 6)
    Image.fromarray(ramp).save(tmp_path / "deep.png")  # a 16-bit greyscale PNG
    np.testing.assert_allclose(load_image(tmp_path / "float.tif", (6, 6, 1)), 0.0)  # constant: no range to stretch
    deep = load_image(tmp_path / "deep.png", (6, 6, 1))[..., 0]
    assert deep.min() < 0.05 and deep.max() > 0.95  # 16 bits mapped onto [0, 1], not clipped at 255


def test_hostile_names_are_escaped_and_slugs_stay_inside_the_site(messy_folder, tmp_path):
    out = tmp_path / "site"
    build(BuildConfig(out=out, images=messy_folder, cache_dir=tmp_path / "cache", **_tiny_folder_build()))
    manifest = json.loads((out / "data" / "manifest.json").read_text())
    names = {record["name"] for record in manifest["images"]}
    assert set(HOSTILE_NAMES) <= names  # names are kept as data ...
    for page in out.rglob("*.html"):
        html = page.read_text()
        assert "<img src=x onerror" not in html  # ... and shown escaped
        assert "a\"b'c&d" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in (out / "index.html").read_text()
    for path in out.rglob("*"):
        assert out.resolve() in path.resolve().parents or path.resolve() == out.resolve()
    slugs = [record["slug"] for record in manifest["images"]]
    assert len(set(slugs)) == len(slugs)
    assert all(set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-") for slug in slugs)


def _tiny_folder_build() -> dict:
    return {**TINY_BUILD, "count": 1}


def test_lambda_model_is_refused_unless_trusted(tmp_path):
    image = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 3, strides=2, padding="same", name="encoded")(image)
    x = keras.layers.Lambda(lambda t: t * 2.0)(x)
    x = keras.layers.UpSampling2D(2)(x)
    path = tmp_path / "lambda.keras"
    keras.Model(image, keras.layers.Conv2D(3, 3, padding="same")(x)).save(path)
    with pytest.raises(AevisError, match="contains Python code.*--trust-model"):
        load_autoencoder(path)
    assert load_autoencoder(path, safe_mode=False).bottleneck == "encoded"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--model", "missing.keras"], "Expected a Keras model file at missing.keras, but there is no such file."),
        (["--images", "no-such-folder"], "Expected a folder of images at no-such-folder, but there is no such folder."),
    ],
)
def test_command_line_refusals_are_one_sentence_with_exit_code_2(tmp_path, arguments, message):
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "generate.py"), *arguments, "--out", "out", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"aevis: {message}"
    assert "Traceback" not in result.stderr


def test_non_finite_codes_are_flagged_and_the_build_goes_on(tmp_path):
    folder = tmp_path / "images"
    _png(folder / "dark.png", (10, 10, 10))
    _png(folder / "dim.png", (20, 20, 20))
    _png(folder / "bright.png", (250, 250, 250))  # overflows the model's code to infinity
    model_path = tmp_path / "overflow.keras"
    overflowing().save(model_path)
    out = tmp_path / "site"
    # A stub, not an autoencoder: its pixel range is set, not detected.
    build(
        BuildConfig(
            out=out,
            images=folder,
            model=model_path,
            input_scale="0-1",
            neighbours=1,
            quiet=True,
            faithfulness_sample=0,
            methods=("saliency",),
            pair_method=None,
        )
    )
    records = {r["source"]: r for r in json.loads((out / "data" / "manifest.json").read_text())["images"]}
    assert records["bright.png"]["flags"] and "code" in records["bright.png"]["flags"][0]
    # Flat images through a stub: their saliency maps are flat too, and only that is flagged.
    assert records["dark.png"]["flags"] == records["dim.png"]["flags"] == ["blank:saliency"]
    assert records["dark.png"]["neighbours"][0]["slug"] == records["dim.png"]["slug"]
    assert "Take this page with care" in (out / records["bright.png"]["page"]).read_text()
    assert "bright.png" in (out / "report.html").read_text()


def test_failed_build_leaves_the_previous_site_and_no_staging(tmp_path):
    out = tmp_path / "site"
    with staged_site(out) as staging:
        (staging / "index.html").write_text("first")
    with pytest.raises(RuntimeError):
        with staged_site(out) as staging:
            (staging / "index.html").write_text("second, never finished")
            raise RuntimeError("interrupted")
    assert (out / "index.html").read_text() == "first" and (out / MARKER).is_file()
    assert out.stat().st_mode & 0o777 == 0o755  # readable by a web server running as another user
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_refuses_to_write_into_a_folder_it_did_not_make(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "diary.txt").write_text("mine")
    with pytest.raises(AevisError, match="holds other files"):
        with staged_site(home):
            pass
    assert sorted(p.name for p in home.iterdir()) == ["diary.txt"]


def _assert_whole(site: Path) -> dict:
    """A complete site: marker, parseable manifest, every page and code it promises."""
    assert (site / MARKER).is_file()
    manifest = json.loads((site / "data" / "manifest.json").read_text())
    assert len(np.load(site / "data" / "codes.npy")) == len(manifest["images"])
    for record in manifest["images"]:
        assert (site / "data" / "maps" / f"{record['slug']}.npz").is_file()
        assert (site / record["page"]).read_text().rstrip().endswith("</html>")
    for page in ("index.html", "map.html", "model.html", "reading.html", "report.html"):
        assert (site / page).read_text().rstrip().endswith("</html>")
    return manifest


class _Watched:
    """A build in a subprocess whose stage lines (stderr, one as each stage ends) are read as
    they come, so a test can act on what the build has done rather than on the clock."""

    def __init__(self, arguments: list[str]) -> None:
        self.process = subprocess.Popen(
            arguments, cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.strip())

    def said(self, start: str) -> bool:
        return any(line.startswith(start) for line in self.lines)

    def kill_when(self, event, timeout: float = 300) -> list[str]:
        """SIGKILL the build as soon as ``event()`` is true; the lines it had written by then."""
        deadline = time.monotonic() + timeout
        while not event():
            assert self.process.poll() is None, f"the build ended before the moment came: {self.lines}"
            assert time.monotonic() < deadline, f"the moment never came: {self.lines}"
            time.sleep(0.005)
        self.process.send_signal(signal.SIGKILL)
        seen = list(self.lines)
        assert self.process.wait() == -signal.SIGKILL, "the build had finished: the kill landed nowhere"
        self._reader.join()
        return seen


def _staging(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.building-*"))


def test_kill_9_at_any_moment_leaves_a_whole_site(tmp_path):
    out, cache = tmp_path / "site", tmp_path / "cache"
    arguments = [
        sys.executable,
        str(REPOSITORY / "generate.py"),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        *"--count 12 --image-size 16 --filters 4 4 8 8 --epochs 1 --batch-size 8 --neighbours 3 --faithfulness-sample 0".split(),
    ]
    subprocess.run([*arguments, "--quiet"], check=True, capture_output=True, cwd=REPOSITORY)
    assert _assert_whole(out)["seed"] == 0
    # Kill rebuilds (another seed, so old and new sites differ) at moments spread over a build,
    # each when the build shows it got there: while training, while encoding and mapping, while
    # drawing into the staging folder, while writing the pages there.
    moments = [
        ("training", lambda build: build.said("Making the"), "Training the autoencoder", False),
        ("encoding", lambda build: build.said("Training the autoencoder"), "Writing thumbnails", False),
        ("drawing", lambda build: bool(_staging(out)), "Explaining and drawing", True),
        (
            "writing pages",
            lambda build: any((staged / "data" / "manifest.json").is_file() for staged in _staging(out)),
            "Writing pages",
            True,
        ),
    ]
    for seed, (moment, event, not_yet, staged) in enumerate(moments, start=1):
        build = _Watched([*arguments, "--seed", str(seed)])
        seen = build.kill_when(lambda build=build, event=event: event(build))
        # Where it landed: before the stage that ends the moment, and inside the staging folder or not.
        assert not any(line.startswith(not_yet) for line in seen), (moment, seen)
        assert bool(_staging(out)) == staged, moment
        assert _assert_whole(out)["seed"] == 0, moment  # the old site, whole: the new one never got there
    subprocess.run([*arguments, "--quiet"], check=True, capture_output=True, cwd=REPOSITORY)
    assert _assert_whole(out)["seed"] == 0
    # The last build tidied every staging folder the killed ones left behind.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_same_inputs_give_identical_data(tmp_path):
    def one_build(name: str, cache: str) -> tuple[dict, Path]:
        out = tmp_path / name
        build(BuildConfig(out=out, cache_dir=tmp_path / cache, **TINY_BUILD))
        manifest = json.loads((out / "data" / "manifest.json").read_text())
        manifest.pop("built_at")
        return manifest, out

    first, first_site = one_build("a", "cache-a")
    again, _ = one_build("b", "cache-a")  # the same model file
    assert again == first
    retrained, retrained_site = one_build("c", "cache-c")  # trained again from scratch
    # A .keras archive records when it was saved, so only the file's hash may differ.
    retrained["model"].pop("sha256"), first["model"].pop("sha256")
    assert retrained == first
    assert (first_site / "data" / "codes.npy").read_bytes() == (retrained_site / "data" / "codes.npy").read_bytes()
    for npz in (first_site / "data" / "maps").glob("*.npz"):
        with np.load(npz) as one, np.load(retrained_site / "data" / "maps" / npz.name) as other:
            assert one.files == other.files
            for name in one.files:
                np.testing.assert_array_equal(one[name], other[name])

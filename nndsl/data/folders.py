"""The ``image_folder`` and ``text_folder`` sources: one subfolder per class, streamed by Keras."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .table import Dataset, data_error

_IMAGE_EXT = {".jpg", ".jpeg", ".png", ".bmp", ".gif"}


# The first bytes of each image format Keras decodes.
_IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM", b"GIF87a", b"GIF89a")


def _looks_like_an_image(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return any(head.startswith(s) for s in _IMAGE_SIGNATURES)


_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def _undecodable(files: list[Path], channels: int) -> list[Path]:
    """The images TensorFlow cannot decode as Keras will while training (same op, same channels).

    A file cut short keeps a valid header, so only decoding it finds it. Each file is decoded
    once, in parallel through tf.data; a file whose decode fails is dropped by ``ignore_errors``,
    so the files missing from the result are the bad ones.
    """
    import tensorflow as tf

    def decode(p):
        image = tf.io.decode_image(tf.io.read_file(p), channels=channels, expand_animations=False)
        return p, tf.size(image)

    paths = tf.data.Dataset.from_tensor_slices([str(f) for f in files])
    decoded = paths.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False).ignore_errors()
    good = {p.decode() for p, _ in decoded.as_numpy_iterator()}
    return [f for f in files if str(f) not in good]


def _decode_failure(path: Path, channels: int) -> str:
    """TensorFlow's reason for refusing one image, without its op and function names."""
    import tensorflow as tf

    try:
        tf.io.decode_image(tf.io.read_file(str(path)), channels=channels, expand_animations=False)
    except (tf.errors.OpError, ValueError) as exc:
        text = re.sub(r"^\{\{[^}]*\}\}\s*|\s*\[Op:\w+\].*$", "", getattr(exc, "message", None) or str(exc)).strip()
        return text.splitlines()[0] if text else type(exc).__name__
    return "it failed once and decoded the second time"


def _check_images_decode(files: list[Path], args, *, path: Path, shown: str, decl, source) -> None:
    channels = _CHANNELS.get(args.get("color_mode") or "rgb", 3)
    bad = _undecodable(files, channels)
    if not bad:
        return
    first = bad[0]
    more = f"; {len(bad) - 1} more cannot be decoded either" if len(bad) > 1 else ""
    raise data_error(f"expected an image file TensorFlow can decode; received '{first.relative_to(path).as_posix()}', which is cut "
                     f"short or damaged ({_decode_failure(first, channels)}){more}", where=shown, decl=decl, source=source,
                     hint="remove the file or replace it with the whole image")


def _folder(args, base, decl, source, kind: str, exts: set[str]):
    shown = args["path"]
    path = Path(shown) if Path(shown).is_absolute() else (base / shown).resolve()
    if not path.exists():
        raise data_error(f"expected an existing folder of {kind}; received a path that does not exist ({path})",
                         where=shown, decl=decl, source=source)
    if not path.is_dir():
        raise data_error(f"expected a folder of {kind} with one subfolder per class; received a file",
                         where=shown, decl=decl, source=source)
    classes = sorted(p.name for p in path.iterdir() if p.is_dir())
    files = _files(path, classes, exts)
    if not classes or not files:
        raise data_error(f"expected one subfolder per class holding {kind} ({', '.join(sorted(exts))}); received none",
                         where=shown, decl=decl, source=source)
    if args.get("label_mode") == "binary" and len(classes) != 2:
        raise data_error(f"expected exactly 2 class subfolders for label_mode=\"binary\"; received {len(classes)} "
                         f"({', '.join(classes[:5])}{', ...' if len(classes) > 5 else ''})", where=shown, decl=decl, source=source,
                         hint='use label_mode="int" or "categorical" for another number of classes')
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:  # on the JAX backend, TensorFlow is optional
        raise data_error(f"expected TensorFlow to stream a folder of {kind} (through tf.data); received an environment without it",
                         where=shown, decl=decl, source=source, hint='install it: pip install "nndsl[keras]"')
    if kind == "images":
        # An empty or corrupt image would stop training at the batch that holds it: found here, before it starts.
        for f in files:
            if not _looks_like_an_image(f):
                raise data_error(f"expected an image file (JPEG, PNG, BMP or GIF); received '{f.relative_to(path).as_posix()}', which "
                                 f"{'is empty' if f.stat().st_size == 0 else 'is not one'}", where=shown, decl=decl, source=source,
                                 hint="remove the file or replace it with the image")
    return path, classes, len(files)


def _files(path: Path, classes: list[str], exts: set[str]) -> list[Path]:
    return [f for c in classes for f in sorted((path / c).iterdir()) if f.suffix.lower() in exts]


def _label_mode(args):
    """The label mode as Keras wants it: the documented value "none" is Python's None."""
    if "label_mode" in args and args["label_mode"] is None:
        return None
    mode = args.get("label_mode") or "int"
    return None if mode == "none" else mode


def load_images(args: dict, *, name: str, base: Path, decl=None, source=None, seed=None) -> Dataset:
    import keras

    path, classes, count = _folder(args, base, decl, source, "images", _IMAGE_EXT)
    # A truncated or damaged image would stop training at the batch that holds it, epochs in:
    # every image is decoded once here, before training starts (Keras reads each class folder's
    # subfolders too).
    files = [f for c in classes for f in sorted((path / c).rglob("*")) if f.suffix.lower() in _IMAGE_EXT and f.is_file()]
    _check_images_decode(files, args, path=path, shown=args["path"], decl=decl, source=source)
    size = args.get("image_size") or (256, 256)
    ds = keras.utils.image_dataset_from_directory(
        str(path), image_size=tuple(size), color_mode=args.get("color_mode") or "rgb",
        label_mode=_label_mode(args), batch_size=None, shuffle=False, verbose=False,
    )
    return Dataset(name=name, tf_dataset=ds, class_names=classes, path=path, fingerprint=f"{count} images in {len(classes)} classes",
                   columns={"file": _file_names(ds, path)})


def load_texts(args: dict, *, name: str, base: Path, decl=None, source=None, seed=None) -> Dataset:
    import keras

    path, classes, count = _folder(args, base, decl, source, "text files", {".txt"})
    ds = keras.utils.text_dataset_from_directory(
        str(path), label_mode=_label_mode(args), batch_size=None, shuffle=False, verbose=False,
    )
    return Dataset(name=name, tf_dataset=ds, class_names=classes, path=path, fingerprint=f"{count} texts in {len(classes)} classes",
                   columns={"file": _file_names(ds, path)})


def _file_names(ds, folder: Path) -> list[str]:
    """Each row's file, relative to the source's folder (``cats/12.jpg``), in the stream's order."""
    return [Path(os.path.relpath(p, folder)).as_posix() for p in getattr(ds, "file_paths", None) or ()]

"""Built-in data sources: csv, parquet, json, npz, npy, image_folder, text_folder and split. Specs only; loaders in nndsl.data."""

from __future__ import annotations

from ..plugins.spec import DataSourceSpec, param

# The column parameters every table source (csv, parquet, json) shares, after its path.
TABLE_COLUMNS = (
    param("target", "str_or_list", None, "The column(s) to predict; absent for prediction data."),
    param("features", "str_list", None, "Feature columns to use (default: every other column)."),
    param("exclude", "str_list", None, "Columns to leave out (ids, free text)."),
    param("numeric", "str_list", None, "Numeric feature columns; with categorical=, the only features (others are left out)."),
    param("categorical", "str_list", None, "Columns of categories (text or whole numbers), one-hot encoded with the training "
                                           "data's categories and a slot for unseen ones."),
    param("text", "str_list", None, "Categorical columns read as text exactly as written, whatever they look like "
                                    "(codes such as \"02134\" or \"007\"): never numbers, a string input of the saved model."),
)
TABLE_IDS = param("id", "str_list", None, "Identifying columns kept out of the features, copied into predictions.")
TABLE_MISSING = param("missing", "missing", None,
                      "What a missing cell becomes, for the whole table or as a dict per column: error, drop (the row), a "
                      "number (or a category), or the mean, median or most_frequent value of the column in the training "
                      "data. Default: numeric columns get the training mean, categorical columns a category of their own.",
                      nullable=True)
TABLE_UNKNOWN = param("unknown", "str", "oov",
                      "What a category never seen in training becomes: oov (a slot of its own) or error.",
                      choices=("oov", "error"))

CSV = DataSourceSpec(
    name="csv",
    doc="A CSV file with a header row (or a folder or glob of them); numeric feature columns, optional target column(s).",
    impl="nndsl.data.csv:load",
    params=(
        param("path", "path", doc="The file, a folder of .csv part files, or a glob pattern, relative to the .nn file."),
        *TABLE_COLUMNS,
        param("delimiter", "str", ",", "The field separator."),
        TABLE_IDS,
        TABLE_MISSING,
        TABLE_UNKNOWN,
    ),
)

PARQUET = DataSourceSpec(
    name="parquet",
    doc="A Parquet file (or a folder or glob of part files); numeric feature columns, optional target column(s).",
    impl="nndsl.data.parquet:load",
    params=(
        param("path", "path", doc="The file, a folder of .parquet part files, or a glob pattern, relative to the .nn file."),
        *TABLE_COLUMNS,
        TABLE_IDS,
        TABLE_MISSING,
        TABLE_UNKNOWN,
    ),
)

JSON = DataSourceSpec(
    name="json",
    doc="A JSON lines file, one object per line (or a folder or glob of them); numeric feature keys, optional target key(s).",
    impl="nndsl.data.jsonl:load",
    params=(
        param("path", "path", doc="The file, a folder of .jsonl part files, or a glob pattern, relative to the .nn file."),
        *TABLE_COLUMNS,
        TABLE_IDS,
        TABLE_MISSING,
        TABLE_UNKNOWN,
    ),
)

NPZ = DataSourceSpec(
    name="npz",
    doc="A NumPy .npz archive with feature and target arrays.",
    impl="nndsl.data.arrays:load_npz",
    params=(
        param("path", "path", doc="The .npz file."),
        param("x", "str", "x", "The array holding the features."),
        param("y", "str", None, "The array holding the targets (default: 'y' when present)."),
    ),
)

NPY = DataSourceSpec(
    name="npy",
    doc="NumPy .npy files for the features and, optionally, the targets.",
    impl="nndsl.data.arrays:load_npy",
    params=(
        param("path", "path", doc="The .npy file of features."),
        param("target", "path", None, "The .npy file of targets."),
    ),
)

IMAGE_FOLDER = DataSourceSpec(
    name="image_folder",
    doc="A folder with one subfolder of images per class (keras.utils.image_dataset_from_directory).",
    impl="nndsl.data.folders:load_images",
    params=(
        param("path", "path", doc="The folder."),
        param("image_size", "tuple", (256, 256), "Height and width the images are resized to."),
        param("color_mode", "str", "rgb", "grayscale, rgb or rgba.", choices=("grayscale", "rgb", "rgba")),
        param("label_mode", "str", "int", "int, categorical, binary or none (no labels).", nullable=True,
              choices=("int", "categorical", "binary", "none")),
    ),
)

TEXT_FOLDER = DataSourceSpec(
    name="text_folder",
    doc="A folder with one subfolder of .txt files per class (keras.utils.text_dataset_from_directory).",
    impl="nndsl.data.folders:load_texts",
    params=(
        param("path", "path", doc="The folder."),
        param("label_mode", "str", "int", "int, categorical, binary or none (no labels).", nullable=True,
              choices=("int", "categorical", "binary", "none")),
    ),
)

SPLIT = DataSourceSpec(
    name="split",
    doc="One part of another data source, split by fractions with a seed: split(all, 0.8, 0.2, part=1).",
    impl="nndsl.data.split:load",
    params=(
        param("source", "data", doc="The data source to split."),
        param("fractions", "fraction_list", doc="The size of each part, e.g. 0.8, 0.1, 0.1 (the rest, if any, is a last part)."),
        param("part", "int", 0, "Which part this source is (0-based)."),
        param("seed", "int", None, "Shuffle seed (default: the file's seed, else 0)."),
    ),
    var_positional="fractions",
)

"""The words of the ``.nn`` language, in one place.

The grammar (``grammars/nn.lark``) defines the reserved words as keyword terminals (a test keeps
the two in step); everything else here is a name the grammar parses as any other and a later
stage gives a meaning: settings and step verbs at the start of a top-level line, model
properties at the start of a body line. The lexer, the parser's error messages,
the highlighters, the importer and the tests take their words from here.
"""

from __future__ import annotations

# ---------------------------------------------------------------- reserved words (grammar keywords)
#: Words that start a top-level statement: ``let x = 1``, ``data d = csv(...)``, ``model m {``, ``block b(...) {``.
DECLARATIONS = ("let", "data", "model", "block")
#: The word that starts a repeated group of layers in a body: ``repeat 3 {``.
REPEAT = "repeat"
#: The words that introduce a step's clauses: ``train m on d``, ``save m to "m.keras"``, ``load m from "m.keras"``.
CLAUSES = ("on", "to", "from")
#: The constant literals.
CONSTANTS = ("true", "false", "none")
#: Every reserved word: none of them can be a name.
RESERVED = (*DECLARATIONS, REPEAT, *CLAUSES, *CONSTANTS)
#: The grammar's terminal for each reserved word (``"let"`` -> ``"LET"``).
TERMINALS = {word: word.upper() for word in RESERVED}
#: The reserved words that are keywords rather than values (everything but the constants).
KEYWORDS = (*DECLARATIONS, REPEAT, *CLAUSES)
#: The words whose statement continues with a body in braces: after them, ``{`` opens a body, not a dict.
BODY_OPENERS = ("model", "block", REPEAT)

# ---------------------------------------------------------------- names with a meaning by position
#: File-wide settings, written ``name value`` at the start of a top-level line: ``seed 42``.
SETTINGS = ("seed", "backend", "distribute", "track", "memory_budget")
#: The built-in step verbs (plugins add more): a name starting a top-level line that is no setting.
STEPS = ("train", "test", "evaluate", "save", "load", "predict", "summary", "plot", "tune")
#: ``keras.Model.compile``'s arguments (Keras 3), written as properties in a model body: ``loss mse``.
COMPILE_PROPERTIES = (
    "loss", "optimizer", "metrics", "loss_weights", "weighted_metrics", "run_eagerly",
    "steps_per_execution", "jit_compile", "auto_scale_loss",
)
#: nndsl's own model properties: preprocessing fitted on the training data and saved in the model.
MODEL_OPTIONS = ("scale_features", "scale_target")
#: The model property that sets the Keras model's name: ``name "2024-prices"``.
MODEL_NAME = "name"
#: Every model property.
PROPERTIES = (*COMPILE_PROPERTIES, *MODEL_OPTIONS, MODEL_NAME)

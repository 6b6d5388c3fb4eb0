"""A test plugin: the callback ``HoldLaterTrainings()`` holds every training of a process after its
first while a file ``hold`` is in the working folder, so a test can stop a search with a trial in
flight without making trials long: the first trial finishes, the second waits until the process is
killed (or the file is gone, or ``timeout`` seconds have passed).
Registering it imports nothing heavy: Keras loads with ``hold_later_trainings_callback`` when a model is built.
"""

from nndsl.plugins.registry import registry
from nndsl.plugins.spec import LayerSpec, param

registry("callbacks").register("HoldLaterTrainings", LayerSpec(
    name="HoldLaterTrainings", doc="Hold every training after the first while a file 'hold' exists.",
    impl="hold_later_trainings_callback:HoldLaterTrainings", params=(param("timeout", "float", 120.0),)))

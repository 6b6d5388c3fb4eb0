"""A test plugin: the callback ``WaitForPeers(count=N)`` holds each process's first training until N
processes have started one, so a test of processes sharing a search knows every one trains a trial.

Each process marks its arrival with a file ``peer-<pid>`` in the working folder, then waits (at most
``timeout`` seconds) for N such files. Trials can then be as short as the test likes, rather than
long enough for a second process to import TensorFlow before the first has done them all.
Registering it imports nothing heavy: Keras loads with ``wait_for_peers_callback`` when a model is built.
"""

from nndsl.plugins.registry import registry
from nndsl.plugins.spec import LayerSpec, param

registry("callbacks").register("WaitForPeers", LayerSpec(
    name="WaitForPeers", doc="Wait until COUNT processes have started training.", impl="wait_for_peers_callback:WaitForPeers",
    params=(param("count", "int", 2), param("timeout", "float", 120.0))))

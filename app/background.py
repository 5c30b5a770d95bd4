"""A thread of one server process that works in the background: started by the first request after gunicorn's
fork (and again in a forked child), stopped when the process's services close."""

import os
import threading


class BackgroundThread:
    """A daemon thread running :meth:`run` once per process; subclasses say whether it is wanted and what it does."""

    name = "background"

    def __init__(self):
        self.stopped = threading.Event()
        self._thread = None
        self._pid = None

    def wanted(self):
        """Whether this process should run the thread at all (a setting may turn it off)."""
        return True

    def run(self):
        """The thread's work; returns once ``self.stopped`` is set."""
        raise NotImplementedError

    def ensure_running(self):
        """Start the thread in this process if it is wanted and not running (after a fork too)."""
        if self.running() or self.stopped.is_set() or not self.wanted():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def running(self):
        """Whether this process's thread is alive."""
        return self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()

    def stop(self, timeout=5.0):
        """Ask the thread to end and wait for it (at most ``timeout`` seconds) to finish what it is doing."""
        self.stopped.set()
        if self.running():
            self._thread.join(timeout)

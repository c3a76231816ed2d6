"""Progress display on stderr, so stdout stays a clean table: one updating
line on a terminal, one line per step otherwise (logs)."""
import sys
import time


class Progress:
    def __init__(self, total, enabled=True, stream=None):
        self.total = total
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self.start = time.perf_counter()
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()

    def _write(self, text):
        if not self.enabled:
            return
        line = "[%*d/%d %5.1fs] %s" % (len(str(self.total)), self.done, self.total,
                                       time.perf_counter() - self.start, text)
        if self.tty:
            self.stream.write("\r\033[K" + line[:150])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, text):
        """A message that does not count as a step (e.g. measuring ceilings)."""
        self._write(text)

    def step(self, text):
        self.done += 1
        self._write(text)

    def close(self):
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

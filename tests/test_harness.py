"""The harness itself: killing a program that is still writing must not
leave a reader thread to die with a traceback (the e2e output of a passing
run shows none)."""
import threading
import time
import unittest

import harness


class HarnessReaders(unittest.TestCase):

    def test_killing_a_chatty_program_leaves_no_reader_traceback(self):
        errors = []
        saved = threading.excepthook
        threading.excepthook = lambda args: errors.append(
            "%s: %s" % (args.exc_type.__name__, args.exc_value))
        try:
            for _ in range(20):
                p = harness.Process(["yes", "a line to keep the reader busy"])
                time.sleep(0.01)
                p.kill()
            time.sleep(0.2)  # a reader that outlived kill() would fail now
        finally:
            threading.excepthook = saved
        self.assertEqual(errors, [], "reader threads died after kill()")

    def test_an_unread_stderr_is_collected_after_exit(self):
        p = harness.Process(["sh", "-c", "echo out; echo err >&2"],
                            read_stderr=False)
        self.assertEqual(p.wait(5), 0)
        self.assertEqual(p.err_lines, ["err"])
        self.assertEqual([line for _, line in p.out_lines], ["out"])
        p.kill()


if __name__ == "__main__":
    unittest.main()

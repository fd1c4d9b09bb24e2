"""The harness itself: killing a program that is still writing must not
leave a reader thread to die with a traceback (the e2e output of a passing
run shows none); a shrunk stderr pipe is full after a page; a busy worker
thread is seen as busy, and an idle process is not."""
import os
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

    def test_a_shrunk_stderr_pipe_blocks_after_a_page(self):
        # dd writes 64 blocks of 1 KiB to the unread stderr: it blocks
        # after about 4 (it would end at once with the default 64 KiB).
        p = harness.Process(["sh", "-c", "dd if=/dev/zero bs=1024 count=64 "
                             "status=none >&2"], read_stderr=False,
                            stderr_pipe_size=4096)
        try:
            self.assertIsNone(p.wait(1), "64 KiB went into a pipe of 4 KiB "
                              "that nobody read")
        finally:
            p.kill()

    def test_a_computing_worker_thread_is_seen_and_an_idle_one_not(self):
        spin = ("import threading\n"
                "def spin():\n"
                "    while True: pass\n"
                "threading.Thread(target=spin, daemon=True).start()\n"
                "threading.Event().wait(60)\n")
        idle = spin.replace("while True: pass", "threading.Event().wait(60)")
        for code, busy in ((spin, True), (idle, False)):
            p = harness.Process(["python3", "-c", code])
            try:
                self.assertEqual(harness.wait_for_a_busy_thread(
                    p.proc.pid, 10 if busy else 1), busy, code)
            finally:
                p.kill()


if __name__ == "__main__":
    unittest.main()

import os
import signal
import threading

import pytest

from recon.held_signals import held_signals


def test_a_signal_inside_is_held_and_raised_on_leaving():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with held_signals():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("after the signal")  # native code with Python callbacks would run here undisturbed
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler before is back


def test_sigterm_goes_to_the_handler_that_was_in_place():
    seen = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with held_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            assert seen == []
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)


def test_outside_the_main_thread_it_does_nothing():
    errors = []

    def work():
        try:
            with held_signals():
                pass
        except Exception as exc:  # signal.signal outside the main thread raises ValueError
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []

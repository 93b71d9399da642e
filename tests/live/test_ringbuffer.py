"""RingBuffer: positions, wrap-around, contiguity of windows, mixing, overwritten ranges."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from speakfeed_gui.core.audio.ringbuffer import RingBuffer


def test_wraparound_keeps_the_latest_samples_in_order():
    ring = RingBuffer(10)
    stream = np.arange(37, dtype=np.float32)
    for start in range(0, 37, 3):  # blocks of 3 wrap around at every multiple of 10
        ring.write(stream[start : start + 3])
    assert ring.total_written == 37
    np.testing.assert_array_equal(ring.latest(10), stream[27:])
    np.testing.assert_array_equal(ring.read_range(30, 37), stream[30:])
    np.testing.assert_array_equal(ring.latest(4), stream[33:])


def test_every_window_across_the_seam_is_one_contiguous_copy():
    ring = RingBuffer(8)
    ring.write(np.arange(13, dtype=np.float32))
    for start in range(5, 13):
        for stop in range(start, 14):
            window = ring.read_range(start, stop)
            assert window.flags["C_CONTIGUOUS"]
            np.testing.assert_array_equal(window, np.arange(start, stop, dtype=np.float32))


def test_reads_are_copies():
    ring = RingBuffer(4)
    ring.write(np.ones(3, dtype=np.float32))
    window = ring.latest(3)
    ring.write(np.zeros(4, dtype=np.float32))
    np.testing.assert_array_equal(window, np.ones(3))


def test_block_larger_than_capacity_keeps_its_tail():
    ring = RingBuffer(5)
    ring.write(np.arange(12, dtype=np.float32))
    assert ring.total_written == 12
    np.testing.assert_array_equal(ring.latest(5), np.arange(7, 12))


def test_multichannel_blocks_are_mixed_to_mono():
    ring = RingBuffer(6)
    stereo = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, -1.0]], dtype=np.float32)
    ring.write(stereo)
    ring.write(stereo[:, :1])  # a (frames, 1) block is one channel
    np.testing.assert_array_equal(ring.latest(6), [0.5, 0.5, -0.5, 1.0, 0.5, 0.0])


def test_unwritten_or_overwritten_ranges_raise():
    ring = RingBuffer(4)
    ring.write(np.arange(6, dtype=np.float32))
    with pytest.raises(IndexError, match="only 6 samples"):
        ring.read_range(4, 7)
    with pytest.raises(IndexError, match="overwritten"):
        ring.read_range(1, 3)
    assert ring.latest(100).size == 4
    assert RingBuffer(3).latest(2).size == 0


def test_concurrent_writer_never_yields_torn_windows():
    """Writer thread pushes a ramp; every window read meanwhile must be consecutive values."""
    ring = RingBuffer(4096)
    done = threading.Event()

    def writer():
        value = 0
        while value < 400_000:
            ring.write(np.arange(value, value + 97, dtype=np.float32))
            value += 97
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    checked = 0
    while not done.is_set() or checked == 0:
        window = ring.latest(1024)
        if window.size > 1:
            np.testing.assert_array_equal(np.diff(window), 1.0)
            checked += 1
    thread.join()
    assert checked > 0

"""A lock-free single-producer ring buffer of float32 samples (friture's "written twice" layout).

Every sample is stored at two places, `i` and `i + capacity`, so any range of up to `capacity`
recent samples is one contiguous slice: the reader copies it with one numpy slice and the
PortAudio callback only ever copies into preallocated memory. Readers check afterwards that the
writer did not overtake the range while it was being copied (a seqlock-style check) and retry.
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    """Holds the last `capacity` samples; one writer thread, one reader thread, no locks."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"ring buffer capacity must be at least 1 sample, got {capacity}")
        self.capacity = int(capacity)
        self._data = np.zeros(2 * self.capacity, dtype=np.float32)
        # np.zeros maps pages lazily: touch them all now, so the audio callback never takes a page
        # fault (real-time jitter) and the buffer is resident from Start, not filled in over minutes.
        self._data.fill(0.0)
        self._total = 0
        self._claimed = 0  # end of the block being written; set before the data is touched

    @property
    def total_written(self) -> int:
        """Samples written since creation (monotonic; also the position of the next sample)."""
        return self._total

    def write(self, block: np.ndarray) -> None:
        """Append samples; a (frames, channels) block is mixed to mono on the way in.

        Called from the audio callback: no allocation for 1-D or one-channel blocks, and a
        multi-channel mix writes straight into the buffer with `out=`.
        """
        if block.ndim == 2 and block.shape[1] == 1:
            block = block[:, 0]
        n = block.shape[0]
        if n == 0:
            return
        if n > self.capacity:  # only the newest `capacity` samples can be kept
            skipped = n - self.capacity
            block = block[skipped:]
            self._total += skipped
            n = self.capacity
        cap = self.capacity
        pos = self._total % cap
        self._claimed = self._total + n
        first = self._data[pos : pos + n]
        if block.ndim == 2:
            np.mean(block, axis=1, out=first)
        else:
            first[:] = block
        # mirror: indices below `cap` are copied to +cap, indices at or above `cap` to -cap
        head = min(n, cap - pos)
        self._data[pos + cap : pos + cap + head] = first[:head]
        if head < n:
            self._data[: n - head] = first[head:]
        self._total += n  # publish only after the data is in place

    def read_range(self, start: int, stop: int) -> np.ndarray:
        """Copy of samples [start, stop) in `total_written` coordinates.

        Raises IndexError when the range is not written yet or already overwritten.
        """
        n = stop - start
        if n < 0:
            raise IndexError(f"ring buffer range [{start}, {stop}) is reversed")
        for _ in range(3):
            total = self._total
            if stop > total:
                raise IndexError(f"ring buffer range ends at {stop} but only {total} samples were written")
            if start < total - self.capacity:
                raise IndexError(
                    f"ring buffer range starts at {start} but samples before {total - self.capacity} are overwritten"
                )
            offset = start % self.capacity
            out = self._data[offset : offset + n].copy()
            if start >= self._claimed - self.capacity:  # the writer did not overtake us while copying
                return out
        raise IndexError(f"ring buffer range [{start}, {stop}) was overwritten while being read; read newer data")

    def latest(self, n: int) -> np.ndarray:
        """Copy of the newest `n` samples (fewer if fewer were written, at most `capacity`)."""
        for _ in range(3):
            total = self._total
            count = max(0, min(n, total, self.capacity))
            try:
                return self.read_range(total - count, total)
            except IndexError:  # overtaken between reading total and copying: try again
                continue
        return np.zeros(0, dtype=np.float32)

"""Peak memory and time of the multi-view gated CRF loss, forward + backward, on one CPU thread.

    python benchmarks/crf_memory.py

Input as in the issue: probabilities and image of shape 2 x 2 x 64 x 128 x 128, window 11. Peak
resident memory of the process is read before and after (ru_maxrss); an implementation that
unfolds the 11 x 11 neighbourhoods would need about 11.8 GB for this input.
"""

import resource
import time

import torch

from nnunet_weak.losses.crf import MultiViewGatedCRFLoss


def main() -> None:
    torch.set_num_threads(1)
    logits = torch.randn(2, 2, 64, 128, 128, requires_grad=True)
    image = torch.rand(2, 1, 64, 128, 128)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    loss = MultiViewGatedCRFLoss(window=11)(logits.softmax(1), image)
    loss.backward()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"loss {loss.item():.4f}; forward+backward {seconds:.1f} s; peak RSS {before:.0f} MiB before, "
          f"{after:.0f} MiB after (+{after - before:.0f} MiB; inputs alone {logits.numel() * 4 * 2 / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()

"""Nearest neighbours: all-pairs search against the reduced-space search, on the same codes.

    python bench/neighbours.py --codes codes.npy --sizes 10000 20000 --runs 3
    python bench/neighbours.py --sizes 10000            # clustered synthetic codes, D = 1024

Prints, per size: median seconds of each search, recall@k of the reduced-space search against
the all-pairs one (the share of each code's k neighbours both find), the share of identical
indices and the largest similarity difference, and each search's peak resident memory (each
run happens in its own forked process, so the peaks do not mix).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import time

import numpy as np

from aevis.latent import neighbours


def main() -> None:
    arguments = _arguments()
    codes = (
        np.load(arguments.codes) if arguments.codes else _synthetic_codes(max(arguments.sizes), arguments.dimensions)
    )
    print(f"codes {codes.shape}, k {arguments.k}, d {neighbours.REDUCED_DIMENSIONS}, C {neighbours.CANDIDATES}")
    for size in arguments.sizes:
        subset = np.ascontiguousarray(codes[:size], np.float32)
        reduced = [_in_child(_reduced_search, subset, arguments.k) for _ in range(arguments.runs)]
        every = [_in_child(_all_pairs_search, subset, arguments.k) for _ in range(arguments.brute_runs)]
        (found, similarities), (expected, expected_similarities) = reduced[0][0], every[0][0]
        recall = np.mean([len(set(a) & set(b)) for a, b in zip(found, expected)]) / found.shape[1]
        print(
            f"N {size:>7,} D {subset.shape[1]}: all pairs {_median(every, 1):8.2f} s ({_median(every, 2):6.0f} MB), "
            f"reduced {_median(reduced, 1):7.2f} s ({_median(reduced, 2):6.0f} MB), recall@{arguments.k} {recall:.5f}, "
            f"same index {np.mean(found == expected):.5f}, "
            f"max |sim diff| {np.abs(similarities - expected_similarities).max():.1e}",
            flush=True,
        )


def _reduced_search(codes: np.ndarray, k: int):
    neighbours.EXACT_SEARCH_UP_TO = 0
    return neighbours.nearest_neighbours(codes, k)


def _all_pairs_search(codes: np.ndarray, k: int):
    neighbours.EXACT_SEARCH_UP_TO = len(codes)
    return neighbours.nearest_neighbours(codes, k)


def _in_child(search, codes: np.ndarray, k: int):
    """(result, seconds, peak resident MB) of one search, run in a forked process."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(_timed, (search, codes, k))


def _timed(search, codes: np.ndarray, k: int):
    start = time.perf_counter()
    result = search(codes, k)
    seconds = time.perf_counter() - start
    return result, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median(runs: list, field: int) -> float:
    return statistics.median(run[field] for run in runs)


def _synthetic_codes(count: int, dimensions: int) -> np.ndarray:
    """Clustered codes whose spectrum decays as a power law, like an encoder's."""
    rng = np.random.default_rng(0)
    scales = 1.0 / np.arange(1, dimensions + 1) ** 0.8
    centres = rng.normal(size=(40, dimensions)) * scales * 3
    codes = centres[rng.integers(0, len(centres), count)] + rng.normal(size=(count, dimensions)) * scales
    return np.maximum(codes, 0).astype(np.float32)  # ReLU/ELU-like: mostly non-negative


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", help=".npy of float32 (N, D) codes; synthetic clustered codes if absent")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--dimensions", type=int, default=1024, help="D of the synthetic codes")
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--runs", type=int, default=3, help="runs of the reduced-space search")
    parser.add_argument("--brute-runs", type=int, default=1, help="runs of the all-pairs search")
    return parser.parse_args()


if __name__ == "__main__":
    main()

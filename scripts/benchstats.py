"""Comparisons shared by scripts/bench-host.py and scripts/bench-guest.py:
a ratio of medians, the min-max of the ratios of the same repetition, and
"no measurable difference" where the min-max ranges of the two overlap."""

import statistics


def overlap(a, b):
    return min(a) <= max(b) and min(b) <= max(a)


def comparison(xa, xb, per_rep):
    """@xa and @xb: the figures of the two sides; @per_rep: the ratios of
    the same repetitions (may be empty)."""
    return {'ratio': statistics.median(xa) / statistics.median(xb),
            'per_rep_min': min(per_rep) if per_rep else None,
            'per_rep_max': max(per_rep) if per_rep else None,
            'overlap': overlap(xa, xb)}


def ratio_cell(c):
    if c is None:
        return '-'
    if c['overlap']:
        return 'no measurable difference'
    if c['per_rep_min'] is None:
        return f'{c["ratio"]:.2f}'
    return (f'{c["ratio"]:.2f} ({c["per_rep_min"]:.2f}-'
            f'{c["per_rep_max"]:.2f})')


def verdict(c, goal):
    if c['overlap']:
        if c['ratio'] >= goal:
            return 'holds (no measurable difference)'
        return (f'inconclusive (ranges overlap; ratio of medians '
                f'{c["ratio"]:.2f})')
    return ('holds' if c['ratio'] >= goal else 'MISSED') + \
        f' ({c["ratio"]:.3f})'

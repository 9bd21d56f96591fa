"""Chaos: fault rules, plans, the actions registry and the retry verdict (no Flask here); drift and
retirement (`drift.py`, `retirement.py`) and the tolerance report (`tolerance.py`).

The faults stage that applies them is `pipeline/faults.py`; the admin API is `control/faults.py` and
`control/tolerance.py`.
"""

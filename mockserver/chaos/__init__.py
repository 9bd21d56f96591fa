"""Chaos: fault rules, plans, the actions registry and the retry verdict (no Flask here).

The faults stage that applies them is `pipeline/faults.py`; the admin API is `control/faults.py`.
"""

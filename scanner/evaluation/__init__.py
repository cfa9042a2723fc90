"""Evaluation: field-assignment figures on labelled items and the emergence backtest."""

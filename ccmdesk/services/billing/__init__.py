"""Billing by use case: evaluation, month facts, family choice, fees, closing, flags."""

"""Reorder-policy math (pure: numpy and scipy only; no Django, Celery or REST framework).

formulas: textbook ROP, EOQ, newsvendor; leadtime: lead-time laws and protection-interval demand from sample
paths; rounding: MOQ and pack size with the reason; budget: prioritisation by revenue at risk per unit of cash;
decision: the order decision for one SKU; simulation: replaying a rule over historical demand.
"""
